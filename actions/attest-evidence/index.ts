import { runAction } from '@golden-image/kit';
import { main } from './main.js';

await runAction(main);

export { createTestContext, everythingPrinted, type Recorded } from './context.js';

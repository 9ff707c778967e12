/** Loopback names and addresses (all of 127.0.0.0/8): the only hosts a stand-in ever talks to. */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * The environment of the local process on the other end of a loopback TCP connection, found as `ss -p` finds it:
 * the socket's inode in /proc/net/tcp{,6} by the peer's port, then the process holding that inode among its file
 * descriptors. Linux only; undefined when the peer cannot be found (another user's process without root, a closed
 * socket). The workflow tier's token endpoint uses it to learn which job asks for an OIDC token, as the Actions
 * runtime knows from the job's own credentials.
 */
export function peerEnvironment(peerPort: number): Record<string, string> | undefined {
  const inode = socketInode(peerPort);
  if (!inode) return undefined;
  const target = `socket:[${inode}]`;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link !== target) continue;
      try {
        const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
        return Object.fromEntries(
          raw
            .split('\0')
            .filter(Boolean)
            .map((entry) => {
              const at = entry.indexOf('=');
              return [entry.slice(0, at), entry.slice(at + 1)];
            }),
        );
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function socketInode(port: number): string | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const local = fields[1];
      if (local?.endsWith(`:${hexPort}`) && fields[9] && fields[9] !== '0') return fields[9];
    }
  }
  return undefined;
}

import { createServer, connect, type Server, type Socket } from 'node:net';

/** A TCP proxy in front of `port`, keeping what each side sent as text. */
export async function wireTap(port: number): Promise<{
  port: number;
  up: string[];
  down: string[];
  /** The bytes of each connection, in the order they were accepted (for binary protocols: MQTT). */
  conns: { up: Buffer[]; down: Buffer[] }[];
  close(): Promise<void>;
}> {
  const up: string[] = [];
  const down: string[] = [];
  const conns: { up: Buffer[]; down: Buffer[] }[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((edge) => {
    const cloud = connect({ host: '127.0.0.1', port });
    sockets.add(edge).add(cloud);
    const conn = { up: [] as Buffer[], down: [] as Buffer[] };
    conns.push(conn);
    edge.on('data', (b: Buffer) => (up.push(b.toString()), conn.up.push(b), cloud.write(b)));
    cloud.on('data', (b: Buffer) => (down.push(b.toString()), conn.down.push(b), edge.write(b)));
    edge.on('close', () => cloud.destroy()).on('error', () => undefined);
    cloud.on('close', () => edge.destroy()).on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const at = server.address() as { port: number };
  return {
    port: at.port,
    up,
    down,
    conns,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The frames (##…CRLF) in what a side sent. */
export const frames = (chunks: string[]): string[] => chunks.join('').match(/##[^\r]*\r\n/g) ?? [];

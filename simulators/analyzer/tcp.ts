import net from 'node:net';
import type { Logger } from 'pino';
import { AnalyzerConfigError } from './validation.js';
import { MODBUS_EXCEPTIONS, exceptionPdu } from './modbus.js';
import type { Answer } from './modbus.js';

/**
 * Modbus TCP framing (MBAP header: transaction id, protocol 0, length, unit id). One server answers
 * several unit ids the way a serial gateway does: an unknown unit gets exception 0x0B. TCP carries no
 * CRC, so a garbled reply is a PDU cut one byte short under a consistent header.
 */

const MBAP_LENGTH = 7;

function mbapFrame(transactionId: number, unit: number, pdu: Buffer): Buffer {
  const frame = Buffer.alloc(MBAP_LENGTH + pdu.length);
  frame.writeUInt16BE(transactionId, 0);
  frame.writeUInt16BE(0, 2);
  frame.writeUInt16BE(pdu.length + 1, 4);
  frame[6] = unit;
  pdu.copy(frame, MBAP_LENGTH);
  return frame;
}

function replyPdu(answer: Answer, request: Buffer): Buffer | undefined {
  if (answer.kind === 'reply') return answer.garble ? answer.pdu.subarray(0, -1) : answer.pdu;
  if (answer.reason === 'unknown-unit') return exceptionPdu(request[0] ?? 0, MODBUS_EXCEPTIONS.gatewayTargetFailed);
  return undefined;
}

export interface TcpOptions {
  host: string;
  port: number;
}

export interface TcpServer {
  /** The bound address; differs from the options when port 0 asked for an ephemeral port. */
  address: TcpOptions;
  close(): Promise<void>;
}

export async function serveTcp(
  options: TcpOptions,
  respond: (unit: number, pdu: Buffer) => Answer,
  logger: Logger,
): Promise<TcpServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', (err) => logger.debug({ err }, 'modbus tcp client error'));
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length > MBAP_LENGTH) {
        const length = buffer.readUInt16BE(4);
        if (buffer.readUInt16BE(2) !== 0 || length < 2 || length > 254) {
          logger.warn({ remote: socket.remoteAddress }, 'not Modbus TCP (bad MBAP header); closing the connection');
          socket.destroy();
          return;
        }
        if (buffer.length < 6 + length) break;
        const transactionId = buffer.readUInt16BE(0);
        const unit = buffer[6] ?? 0;
        const pdu = buffer.subarray(MBAP_LENGTH, 6 + length);
        buffer = buffer.subarray(6 + length);
        const reply = replyPdu(respond(unit, pdu), pdu);
        if (reply) socket.write(mbapFrame(transactionId, unit, reply));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const hint = err.code === 'EADDRINUSE' ? 'is in use' : err.code === 'EACCES' ? 'needs privileges' : err.message;
      reject(
        new AnalyzerConfigError(
          `tcp: ${options.host}:${options.port} ${hint}; choose another port (0 picks a free one)`,
        ),
      );
    });
    server.listen(options.port, options.host, resolve);
  });
  const bound = server.address() as net.AddressInfo;
  return {
    address: { host: bound.address, port: bound.port },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

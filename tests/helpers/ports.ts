import ModbusSerial from 'modbus-serial';

// modbus-serial's typings declare an ES default export; under NodeNext the CommonJS module itself is the class.
const ModbusRTU = ModbusSerial as unknown as typeof ModbusSerial.default;
export type ModbusClient = InstanceType<typeof ModbusRTU>;

/** Where a simulator listens: a loopback TCP port or a serial device (one end of a pty pair). */
export type PortTarget = { tcp: number } | { rtu: string; baudRate?: number };

/** A modbus-serial master connected to `target`, with a per-request timeout. */
export async function connectModbus(target: PortTarget, timeoutMs = 2000): Promise<ModbusClient> {
  const client = new ModbusRTU();
  if ('tcp' in target) await client.connectTCP('127.0.0.1', { port: target.tcp });
  else {
    const line = { baudRate: target.baudRate ?? 9600, parity: 'none', dataBits: 8, stopBits: 1 } as const;
    await client.connectRTUBuffered(target.rtu, line);
  }
  client.setTimeout(timeoutMs);
  return client;
}

export function closeModbus(client: ModbusClient): Promise<void> {
  return new Promise((resolve) => client.close(() => resolve()));
}

import { kafkaScript } from './broker.js';

export default function globalTeardown(): void {
  if (process.env.E2E_STARTED_KAFKA === '1') kafkaScript('down');
}

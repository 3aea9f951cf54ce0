export * from './backup-errors';
export * from './encryption/backup-key';
export * from './encryption/decrypt-stream';
export * from './encryption/encrypt-stream';
export * from './streams/stream-meter';

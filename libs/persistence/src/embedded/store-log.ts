/** Where the store reports what it does at start: the API's logger, or the CLI's stderr. */
export interface StoreLog {
  log(message: string): void;
  warn(message: string): void;
}

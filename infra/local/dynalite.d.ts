/** Minimal types for dynalite 4 (the package ships none): only what `infra/local/dynamo.ts` uses. */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** LevelDB directory; in memory when omitted. */
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    verbose?: boolean;
    debug?: boolean;
  }

  /** An HTTP server speaking the DynamoDB JSON protocol; its `close` also closes the LevelDB store. */
  function dynalite(options?: DynaliteOptions): Server;

  export default dynalite;
}

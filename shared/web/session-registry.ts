/**
 * Which page sessions are still open, server-side. The session itself stays in the sealed cookie (the
 * token is never at rest in the table); the registry only says whether its id was signed out, so that a
 * copy of the cookie stops working the moment its owner signs out.
 *
 * Contract: `open` records an id until `expiresAt` (epoch seconds); `isOpen` is false once `close` ran
 * or `expiresAt` passed; ids are stored only as their SHA-256, so the store yields no usable session id.
 */
export interface SessionRegistry {
  open(sessionId: string, expiresAt: number): Promise<void>;
  isOpen(sessionId: string, nowSeconds: number): Promise<boolean>;
  close(sessionId: string): Promise<void>;
}

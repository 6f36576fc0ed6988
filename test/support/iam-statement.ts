/** A JSON object of a synthesised template. */
export type Json = Record<string, unknown>;

/** An IAM policy statement as a synthesised template holds it (key policies, role policies, vault policies). */
export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: { AWS?: unknown; Service?: unknown };
  Condition?: Json;
}

/** A coded diagnostic, placed in its file. */
export interface Diagnostic {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  file: string;
  line: number;
  column: number;
  end_line?: number;
  end_column?: number;
  label?: string;
  help?: string;
}

/** A finding of a rule, as the decision JSON gives it. */
export interface Finding {
  rule: string;
  effect: 'deny' | 'allow' | 'warn';
  severity: string;
  control?: string;
  message?: string;
  location: { file: string; line: number; column: number };
  input_path?: string;
  subject?: string;
  [key: string]: unknown;
}

/** The decision JSON (docs/decision.md). */
export interface Decision {
  decision: 'allow' | 'deny';
  target: string;
  reason?: string;
  findings: Finding[];
  warnings: Finding[];
  waived: Finding[];
  obligations: Record<string, unknown>;
  decision_id: string;
  policy_revision: string;
  data_revision: string;
  evaluated_at: string;
}

export class WardenError extends Error {
  /** The permanent code (`E0404`, ...), or null. */
  code: string | null;
  /** Every diagnostic when the policies do not compile (name `CompileError`). */
  diagnostics: Diagnostic[];
}

export class Engine {
  /** Compiles policy texts by path; other paths are JSON files the policies name. */
  static compile(files: Record<string, string>, data?: Record<string, unknown>): Engine;
  decide(target: string, input: unknown, options?: { now?: string | Date; explain?: boolean }): Decision;
  /** `decide` for an input as JSON text: integers past 2^53 stay exact. */
  decideJson(target: string, inputJson: string, options?: { now?: string | Date; explain?: boolean }): Decision;
  readonly revision: string;
}

/** Every diagnostic of a set of policy texts. */
export function diagnostics(files: Record<string, string>): Diagnostic[];

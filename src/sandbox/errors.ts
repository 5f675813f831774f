// Errors of the simulators' control surface (in-process methods and `/__sim/...`), from a closed set.
import type { SimReply } from './http.js';

export type SimulatorErrorCode = 'not_found' | 'conflict' | 'bad_request';

const STATUS: Readonly<Record<SimulatorErrorCode, number>> = {
  not_found: 404,
  conflict: 409,
  bad_request: 400,
};

export class SimulatorError extends Error {
  override readonly name = 'SimulatorError';
  readonly status: number;

  constructor(
    readonly code: SimulatorErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.status = STATUS[code];
  }

  toBody(): { error: { code: SimulatorErrorCode; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }

  toReply(): SimReply {
    return { status: this.status, body: this.toBody() };
  }
}

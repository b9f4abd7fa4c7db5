import { KernelError } from '../src/errors.ts';

/** The KernelError `run` throws: any other error is thrown on, and none at all is an error saying `none`. */
export function kernelErrorOf(run: () => unknown, none: string): KernelError {
  try {
    run();
  } catch (error) {
    if (error instanceof KernelError) return error;
    throw error;
  }
  throw new Error(none);
}

// The console's control bytes and text-to-bytes helper, shared by the worker's modules.
// No state.

export const CTRL_A = 0x01;
export const CTRL_B = 0x02;
export const CTRL_C = 0x03;
export const CTRL_D = 0x04;
export const CTRL_E = 0x05;
export const LF = 0x0a;
export const CR = 0x0d;

export const latin1 = (s) => Buffer.from(s, 'latin1');

// None: every caller is the anonymous principal. Only allowed last, after the methods that
// identify callers who do present credentials.
import { ANONYMOUS } from '../types.js';
import type { AuthMethod } from './method.js';

export const noneMethod: AuthMethod = {
  type: 'None',
  challenge: undefined,
  wants: 'nothing',
  authenticate: () => ANONYMOUS,
};

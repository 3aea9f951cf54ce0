import { ConflictError } from '../errors/domain-errors';
import {
  IllegalTransitionError,
  TransitionTable,
  assertTransition,
  canTransition,
  statesLeadingTo,
} from './transition-table';

type Light = 'red' | 'green' | 'amber';
const LIGHTS: TransitionTable<Light> = {
  red: ['green'],
  green: ['amber'],
  amber: ['red'],
};

describe('TransitionTable', () => {
  it('allows exactly the listed moves', () => {
    expect(canTransition(LIGHTS, 'red', 'green')).toBe(true);
    expect(canTransition(LIGHTS, 'red', 'amber')).toBe(false);
    expect(canTransition(LIGHTS, 'red', 'red')).toBe(false);
  });

  it('refuses an illegal move with a conflict naming both states', () => {
    expect(() => assertTransition(LIGHTS, 'Light 3', 'green', 'amber')).not.toThrow();
    const refusal = (() => {
      try {
        assertTransition(LIGHTS, 'Light 3', 'green', 'red');
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(IllegalTransitionError);
    expect(refusal).toBeInstanceOf(ConflictError);
    expect((refusal as Error).message).toBe('Light 3 is green; it cannot become red.');
  });

  it('lists the states a move may start from', () => {
    expect(statesLeadingTo(LIGHTS, 'red')).toEqual(['amber']);
    const converging: TransitionTable<'a' | 'b' | 'c'> = { a: ['c'], b: ['c'], c: [] };
    expect(statesLeadingTo(converging, 'c')).toEqual(['a', 'b']);
  });
});

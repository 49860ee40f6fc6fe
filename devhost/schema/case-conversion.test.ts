import { describe, expect, it } from 'vitest';
import { toSnakeCase } from './case-conversion.js';

describe('toSnakeCase (convert_case 0.6 Case::Snake)', () => {
  it.each([
    // host spec §1.6 examples
    ['IOStream', 'io_stream'],
    ['Person2', 'person_2'],
    ['Player1Id', 'player_1_id'],
    ['currentLevel2', 'current_level_2'],
    // lower→upper, delimiters, already snake
    ['addPerson', 'add_person'],
    ['tickSchedule', 'tick_schedule'],
    ['scheduledId', 'scheduled_id'],
    ['user_id', 'user_id'],
    ['kebab-case name', 'kebab_case_name'],
    ['__identity__', 'identity'],
    ['HTTPServer', 'http_server'],
    ['ABC', 'abc'],
    ['v2', 'v_2'],
    ['2fa', '2_fa'],
    ['A1B', 'a_1_b'],
  ])('%s → %s', (input, expected) => {
    expect(toSnakeCase(input)).toBe(expected);
  });
});

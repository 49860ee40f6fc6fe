/**
 * The error contract at the adapter's own boundaries — the Connect front and the Kafka decoder —
 * failure by failure, answered through the one Connect mapping over the Connect wire format and given
 * its Kafka disposition; and the contract as a whole: the rows of every boundary together raise each
 * reason, each with the detail message the contract lists for it.
 */

import { describe, expect, it } from 'vitest';
import { connectKafkaRows } from './testing/connect-kafka-rows.js';
import { answersEveryRow, contractGaps } from './testing/error-table.js';
import { moduleRefusalRows } from './testing/module-refusal-rows.js';

describe('the error contract at the Connect front and the Kafka decoder, failure by failure', () => {
  answersEveryRow(connectKafkaRows);
});

describe('the error contract, all boundaries together', () => {
  it('raises every reason of the contract, each with the detail message the contract lists for it', () => {
    const noWorld = () => {
      throw new Error('listing the rows only: none runs here');
    };
    expect(contractGaps([...moduleRefusalRows(noWorld), ...connectKafkaRows])).toEqual({
      unraised: [],
      wrongDetail: [],
      detailNeverShown: [],
    });
  });
});

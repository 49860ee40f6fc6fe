/**
 * proto/vendor/buf/validate/validate.proto stands in for the BSR module buf.build/bufbuild/protovalidate.
 * It must describe exactly what the installed @bufbuild/protovalidate validates with, and our generated
 * code must link to that package's descriptors rather than carry a second copy.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { file_buf_validate_validate } from '@bufbuild/protovalidate/gen/buf/validate/validate_pb.js';
import { describe, expect, it } from 'vitest';
import { file_spacetime_sync_v1_envelope } from '../../proto/gen/spacetime_sync/v1/envelope_pb.js';
import { REPO_ROOT, runBuf } from '../../scripts/proto-buf.js';

const VENDORED = 'proto/vendor/buf/validate/validate.proto';

describe('vendored protovalidate', () => {
  it('compiles to the same descriptor, byte for byte, as the one @bufbuild/protovalidate embeds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proto-vendor-'));
    try {
      const out = join(dir, 'set.binpb');
      const built = runBuf([
        'build',
        '--exclude-source-info',
        '--as-file-descriptor-set',
        '--path',
        VENDORED,
        '-o',
        out,
      ]);
      expect(built.stderr).toBe('');
      const set = fromBinary(FileDescriptorSetSchema, readFileSync(out));
      const vendored = set.file.find((f) => f.name === 'buf/validate/validate.proto');
      expect(vendored).toBeDefined();
      expect(Buffer.from(toBinary(FileDescriptorProtoSchema, vendored!)).toString('hex')).toBe(
        Buffer.from(toBinary(FileDescriptorProtoSchema, file_buf_validate_validate.proto)).toString('hex'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is not generated again: our descriptors depend on the package instance', () => {
    expect(existsSync(join(REPO_ROOT, 'proto/gen/buf'))).toBe(false);
    expect(file_spacetime_sync_v1_envelope.dependencies).toContain(file_buf_validate_validate);
  });
});

/**
 * Writes protovalidate's buf/validate/validate.proto, as embedded in the installed
 * @bufbuild/protovalidate package, with its imports as a binary FileDescriptorSet to stdout.
 * Input for ./descprint; see ../README.md.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { file_buf_validate_validate } from '@bufbuild/protovalidate/gen/buf/validate/validate_pb.js';

const file = file_buf_validate_validate;
const set = create(FileDescriptorSetSchema, {
  file: [...file.dependencies.map((d) => d.proto), file.proto],
});
process.stdout.write(toBinary(FileDescriptorSetSchema, set));

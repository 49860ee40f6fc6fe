// Command descprint prints the .proto source of one file from a binary FileDescriptorSet read on
// stdin. It exists to vendor protovalidate's validate.proto from the descriptor the npm package
// embeds, because the Buf Schema Registry is out of reach here (see ../../README.md).
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/jhump/protoreflect/desc"
	"github.com/jhump/protoreflect/desc/protoprint"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: descprint <file name, e.g. buf/validate/validate.proto> < set.binpb")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "descprint:", err)
		os.Exit(1)
	}
}

func run(name string, in io.Reader, out io.Writer) error {
	data, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(data, &set); err != nil {
		return fmt.Errorf("decoding FileDescriptorSet: %w", err)
	}
	files, err := desc.CreateFileDescriptorsFromSet(&set)
	if err != nil {
		return fmt.Errorf("linking descriptors: %w", err)
	}
	fd := files[name]
	if fd == nil {
		return fmt.Errorf("%s is not in the set", name)
	}
	printer := protoprint.Printer{Indent: "  "}
	return printer.PrintProtoFile(fd, out)
}

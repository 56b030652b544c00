#include "proto/json.h"

#include <exception>
#include <fstream>

#include <google/protobuf/util/json_util.h>

namespace bas::proto {
namespace {

namespace pb = google::protobuf;

// Options are built here and nowhere else: the API, the client and the auditor must agree on
// what a record looks like.
pb::util::JsonPrintOptions RecordOptions() {
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  return options;
}

// Genesis files keep the layout `basd genesis new` has always written: an operator diffs them.
pb::util::JsonPrintOptions GenesisOptions() {
  pb::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  return options;
}

Result<std::string> Print(const pb::Message& m, const pb::util::JsonPrintOptions& options) {
  try {
    std::string text;
    const auto status = pb::util::MessageToJsonString(m, &text, options);
    if (status.ok()) return text;
    return Error{"INTERNAL", "cannot print " + m.GetTypeName() + ": " + status.ToString()};
  } catch (const std::exception& e) {
    return Error{"INTERNAL", "cannot print " + m.GetTypeName() + ": " + e.what()};
  }
}

Status Parse(std::string_view text, pb::Message* m, bool ignore_unknown_fields) {
  // protobuf reports errors as a Status, but can still throw on exotic input (bad allocation
  // on huge numbers of nested values): both are MALFORMED.
  try {
    pb::util::JsonParseOptions options;
    options.ignore_unknown_fields = ignore_unknown_fields;
    const auto status =
        pb::util::JsonStringToMessage(pb::StringPiece(text.data(), text.size()), m, options);
    if (!status.ok()) return Error{"MALFORMED", std::string(status.message())};
  } catch (const std::exception& e) {
    return Error{"MALFORMED", e.what()};
  }
  return Status::Ok();
}

// The file's bytes, refused past `limit` without reading further: a genesis path may name a
// device or a FIFO, whose size is not known in advance.
Result<std::string> ReadBounded(const std::filesystem::path& file, size_t limit) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{"IO_ERROR", "cannot read " + file.string()};
  std::string text;
  char buffer[64 * 1024];
  while (in) {
    in.read(buffer, sizeof buffer);
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > limit) {
      return Error{"TOO_LARGE",
                   file.string() + " is larger than " + std::to_string(limit) + " bytes"};
    }
  }
  if (in.bad()) return Error{"IO_ERROR", "cannot read " + file.string()};
  return text;
}

}  // namespace

Result<std::string> PrintJson(const pb::Message& m) { return Print(m, RecordOptions()); }

Status ParseJsonStrict(std::string_view text, pb::Message* m) { return Parse(text, m, false); }

Status ParseJsonLenient(std::string_view text, pb::Message* m) { return Parse(text, m, true); }

Result<bas::v1::Genesis> ReadGenesis(const std::filesystem::path& file) {
  auto text = ReadBounded(file, kMaxGenesisFileBytes);
  if (!text.ok()) return text.error();
  bas::v1::Genesis genesis;
  if (Status s = ParseJsonStrict(*text, &genesis); !s.ok()) {
    return Error{"INVALID_GENESIS", file.string() + ": " + s.message()};
  }
  return genesis;
}

Status WriteGenesis(const std::filesystem::path& file, const bas::v1::Genesis& genesis) {
  auto text = Print(genesis, GenesisOptions());
  if (!text.ok()) return text.error();
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << *text;
  out.close();
  if (!out) return Error{"IO_ERROR", "cannot write " + file.string()};
  return Status::Ok();
}

}  // namespace bas::proto

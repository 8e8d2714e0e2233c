// Multipart uploads with bounded memory, shared by the S3 (UploadPart) and
// Azure Blob (Put Block) backends: the data is read in order, part by part,
// and sent by at most `concurrency` threads, each taking the next part read;
// at most `concurrency` part buffers exist, allocated once and reused, so an
// upload holds concurrency × part_size bytes whatever the file size
// (docs/s3.md, the WriteFile rows).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/io.h"
#include "base/status.h"

namespace litekeep::storage {

struct PartUpload {
  int64_t size = 0;       // bytes of the whole upload
  int64_t part_size = 0;  // bytes per part (the last may be shorter)
  int concurrency = 1;    // parts sent at once
  // Called on the reading thread for each part in order, before it is sent
  // (e.g. to hash the whole upload).
  std::function<void(const std::string& body)> on_read;
  // Sends part `number` (from 1); called from up to `concurrency` threads
  // at once. The body is valid until it returns.
  std::function<Status(int number, const std::string& body)> send;
  // Names the upload in a read error ("put s3://bucket/key").
  std::string what;
};

// Sends `first` (the first part, already read) and then the rest of `data`
// (upload.size bytes in all) as parts 1, 2, ...; stops at the first failure
// (reading data, or a send) and returns it after every started part ended.
// Returns the number of parts sent.
Result<int> UploadParts(const PartUpload& upload, base::Reader& data,
                        std::string first);

}  // namespace litekeep::storage

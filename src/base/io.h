// Byte streams and files: the Reader/Writer interfaces every codec and
// backend speaks, and an RAII file descriptor with the POSIX calls we need
// (pread, pwrite, fsync, directory fsync). All errors are Status values that
// name the path.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace litekeep::base {

// A sequential source of bytes.
class Reader {
 public:
  virtual ~Reader() = default;
  // Reads up to buf.size() bytes; returns 0 only at end of stream.
  virtual Result<size_t> Read(std::span<uint8_t> buf) = 0;
  // Reads exactly buf.size() bytes or fails (kCorrupt "unexpected end").
  Status ReadFull(std::span<uint8_t> buf);
};

// A sequential sink of bytes.
class Writer {
 public:
  virtual ~Writer() = default;
  // Writes all of data or fails.
  virtual Status Write(std::span<const uint8_t> data) = 0;
};

// Reads from an in-memory buffer the caller keeps alive.
class SpanReader : public Reader {
 public:
  explicit SpanReader(std::span<const uint8_t> data) : data_(data) {}
  Result<size_t> Read(std::span<uint8_t> buf) override;

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

// Buffers another reader (which must outlive it) to make small reads cheap.
class BufferedReader : public Reader {
 public:
  explicit BufferedReader(Reader* in, size_t buffer_size = 1 << 20)
      : in_(in), buf_(buffer_size) {}
  Result<size_t> Read(std::span<uint8_t> buf) override;

 private:
  Reader* in_;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
  size_t len_ = 0;
};

// Appends to a std::string.
class StringWriter : public Writer {
 public:
  explicit StringWriter(std::string* out) : out_(out) {}
  Status Write(std::span<const uint8_t> data) override;

 private:
  std::string* out_;
};

// An owned file descriptor. Move-only; closes on destruction.
class File {
 public:
  File() = default;
  File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  File(File&& o) noexcept;
  File& operator=(File&& o) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  // open(2) with flags and mode; errors name the path.
  static Result<File> Open(const std::string& path, int flags,
                           int mode = 0644);

  // A new private file for writing at path, in a directory litekeep owns:
  // a leftover entry there is removed first (never followed), then the file
  // is created 0600 with O_EXCL|O_NOFOLLOW, so a symlink planted between
  // the two steps makes it fail instead of writing through the link.
  static Result<File> CreatePrivate(const std::string& path);

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

  // pread until n bytes or EOF; returns bytes read.
  Result<size_t> ReadAt(void* buf, size_t n, int64_t offset) const;
  // pread exactly n bytes or fail with kCorrupt naming path and offset.
  Status ReadFullAt(void* buf, size_t n, int64_t offset) const;
  Status WriteAt(const void* buf, size_t n, int64_t offset);
  Status WriteAll(const void* buf, size_t n);  // at the current position
  Result<int64_t> Size() const;
  Status Truncate(int64_t size);
  Status Sync();
  Status Close();

 private:
  int fd_ = -1;
  std::string path_;
};

// Sequential reader over an open file (optionally a byte range).
class FileReader : public Reader {
 public:
  explicit FileReader(File file, int64_t offset = 0, int64_t length = -1)
      : file_(std::move(file)), pos_(offset),
        end_(length < 0 ? -1 : offset + length) {}
  Result<size_t> Read(std::span<uint8_t> buf) override;

 private:
  File file_;
  int64_t pos_;
  int64_t end_;  // -1: to end of file
};

// Sequential writer to an open file.
class FileWriter : public Writer {
 public:
  explicit FileWriter(File* file) : file_(file) {}
  Status Write(std::span<const uint8_t> data) override;

 private:
  File* file_;
};

// fsync(2) of a directory, so a rename or create in it is durable.
Status SyncDir(const std::string& dir);
// Reads a whole file into memory.
Result<std::string> ReadFileToString(const std::string& path);
// Writes data to path via path.tmp + fsync + rename + directory fsync.
Status WriteFileAtomic(const std::string& path, std::string_view data);
// True when path exists (any type).
bool PathExists(const std::string& path);
// mkdir -p; errors name the first directory that could not be made.
Status MakeDirs(const std::string& path, int mode = 0755);
// Directory part of path ("." when none).
std::string DirName(const std::string& path);
// Last component of path.
std::string BaseName(const std::string& path);

}  // namespace litekeep::base

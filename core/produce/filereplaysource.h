#pragma once

#include "core/produce/eventsource.h"

#include <cstdio>
#include <memory>
#include <string>

namespace studio::core {

/// Replays a JSON Lines file (as `clickstream-studio generate` writes it) line by line, once or in
/// a loop; each line is one record, keyed by its "user_id" (empty key when the line has none, as
/// malformed events may). Records are sent as they are: event times are those in the file.
class FileReplaySource final : public EventSource
{
public:
    enum class Keys { FromUserId, None };
    /// Opens `path`; null with a message if it cannot be read. Keys::None leaves every key empty
    /// and skips reading user_id (for readers that need the values only).
    static std::unique_ptr<FileReplaySource> open(const std::string &path, bool loop,
                                                  std::string *error, Keys keys = Keys::FromUserId);
    ~FileReplaySource() override;

    std::size_t fill(RecordBatch &out, std::size_t max, std::int64_t nowMs) override;
    bool atEnd() const override { return m_atEnd; }
    std::string lastError() const override { return m_error; }
    std::string describe() const override;

    std::uint64_t loopsCompleted() const { return m_loops; }

private:
    FileReplaySource(std::string path, bool loop, std::FILE *file, Keys keys);
    std::string keyOf(const char *line, std::size_t length);

    std::string m_path;
    bool m_loop;
    Keys m_keys;
    std::FILE *m_file;
    char *m_line = nullptr;
    std::size_t m_lineCapacity = 0;
    std::string m_padded;
    struct KeyParser;
    std::unique_ptr<KeyParser> m_parser;
    bool m_atEnd = false;
    bool m_sawRecordThisPass = false;
    std::uint64_t m_loops = 0;
    std::string m_error;
};

} // namespace studio::core

#include "core/produce/filereplaysource.h"

#include <simdjson.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace studio::core {

struct FileReplaySource::KeyParser
{
    simdjson::ondemand::parser parser;
};

std::unique_ptr<FileReplaySource> FileReplaySource::open(const std::string &path, bool loop,
                                                         std::string *error, Keys keys)
{
    std::FILE *file = std::fopen(path.c_str(), "rb");
    if (!file) {
        if (error)
            *error = "cannot read '" + path + "': " + std::strerror(errno);
        return nullptr;
    }
    return std::unique_ptr<FileReplaySource>(new FileReplaySource(path, loop, file, keys));
}

FileReplaySource::FileReplaySource(std::string path, bool loop, std::FILE *file, Keys keys)
    : m_path(std::move(path))
    , m_loop(loop)
    , m_keys(keys)
    , m_file(file)
    , m_parser(std::make_unique<KeyParser>())
{
}

FileReplaySource::~FileReplaySource()
{
    std::free(m_line);
    if (m_file)
        std::fclose(m_file);
}

std::string FileReplaySource::keyOf(const char *line, std::size_t length)
{
    m_padded.assign(line, length);
    m_padded.resize(length + simdjson::SIMDJSON_PADDING, '\0');
    simdjson::ondemand::document doc;
    if (m_parser->parser.iterate(m_padded.data(), length, m_padded.size()).get(doc))
        return {};
    std::string_view user;
    if (doc["user_id"].get_string().get(user))
        return {};
    return std::string(user);
}

std::size_t FileReplaySource::fill(RecordBatch &out, std::size_t max, std::int64_t nowMs)
{
    (void)nowMs;
    std::size_t added = 0;
    while (added < max && !m_atEnd) {
        const ssize_t n = ::getline(&m_line, &m_lineCapacity, m_file);
        if (n < 0) {
            if (std::ferror(m_file)) {
                m_error = "reading '" + m_path + "' failed: " + std::strerror(errno);
                m_atEnd = true;
                break;
            }
            if (!m_loop || !m_sawRecordThisPass) {
                m_atEnd = true;
                break;
            }
            ++m_loops;
            m_sawRecordThisPass = false;
            std::rewind(m_file);
            continue;
        }
        std::size_t length = static_cast<std::size_t>(n);
        while (length > 0 && (m_line[length - 1] == '\n' || m_line[length - 1] == '\r'))
            --length;
        if (length == 0)
            continue;
        m_sawRecordThisPass = true;
        out.add(m_keys == Keys::None ? std::string() : keyOf(m_line, length),
                std::string_view(m_line, length), 0);
        ++added;
    }
    return added;
}

std::string FileReplaySource::describe() const
{
    return std::string(m_loop ? "looping replay of " : "replay of ") + m_path;
}

} // namespace studio::core

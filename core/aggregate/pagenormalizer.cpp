#include "core/aggregate/pagenormalizer.h"

#include <algorithm>

namespace studio::core {

namespace {

bool isSchemeChar(char c, bool first)
{
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (first)
        return alpha;
    return alpha || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

/// The length of "scheme://authority" (or "//authority") at the start of `s`, 0 if none.
std::size_t authorityLength(std::string_view s)
{
    std::size_t i = 0;
    if (!s.starts_with("//")) {
        while (i < s.size() && isSchemeChar(s[i], i == 0))
            ++i;
        if (i == 0 || s.substr(i, 3) != "://")
            return 0;
        i += 1; // at the "//"
    }
    i += 2;
    while (i < s.size() && s[i] != '/' && s[i] != '?' && s[i] != '#')
        ++i;
    return i;
}

} // namespace

bool PageNormalization::parse(std::string_view spec, PageNormalization &out, std::string &error)
{
    PageNormalization n;
    if (spec == "drop") {
        n.query = PageQuery::Drop;
    } else if (spec == "keep") {
        n.query = PageQuery::Keep;
    } else if (spec.starts_with("keep:")) {
        n.query = PageQuery::KeepListed;
        std::string_view rest = spec.substr(5);
        while (!rest.empty()) {
            const std::size_t comma = rest.find(',');
            const std::string_view name = rest.substr(0, comma);
            if (name.empty() || name.find_first_of("=&?#") != std::string_view::npos) {
                error = "--page-query keep: takes parameter names separated by commas (e.g. "
                        "keep:utm_source,utm_medium); got '" +
                        std::string(spec) + "'";
                return false;
            }
            n.keepParams.emplace_back(name);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            if (comma != std::string_view::npos && rest.empty()) {
                error = "--page-query: an empty parameter name after the last comma in '" +
                        std::string(spec) + "'";
                return false;
            }
        }
        if (n.keepParams.empty()) {
            error = "--page-query keep: needs at least one parameter name (e.g. keep:utm_source)";
            return false;
        }
    } else {
        error = "--page-query must be drop, keep or keep:NAME,NAME,...; got '" + std::string(spec) +
                "'";
        return false;
    }
    out = std::move(n);
    return true;
}

std::string PageNormalization::spec() const
{
    switch (query) {
    case PageQuery::Drop:
        return "drop";
    case PageQuery::Keep:
        return "keep";
    case PageQuery::KeepListed:
        break;
    }
    std::string s = "keep:";
    for (std::size_t i = 0; i < keepParams.size(); ++i) {
        if (i)
            s += ',';
        s += keepParams[i];
    }
    return s;
}

PageNormalizer::PageNormalizer(PageNormalization settings)
    : m_settings(std::move(settings))
{
}

std::string_view PageNormalizer::normalize(std::string_view page)
{
    // The common case: a plain path.
    if (!page.empty() && page.front() == '/' && !page.starts_with("//") &&
        page.find_first_of("?#") == std::string_view::npos &&
        (page.size() == 1 || page.back() != '/'))
        return page;

    std::string_view rest = page.substr(authorityLength(page));
    if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos)
        rest = rest.substr(0, hash);
    std::string_view path = rest, query;
    if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
        path = rest.substr(0, q);
        query = rest.substr(q + 1);
    }
    while (path.size() > 1 && path.back() == '/')
        path.remove_suffix(1);
    if (path == "/")
        path = {};

    m_buffer.clear();
    if (path.empty() || path.front() != '/')
        m_buffer += '/';
    m_buffer += path;
    switch (m_settings.query) {
    case PageQuery::Drop:
        break;
    case PageQuery::Keep:
        if (!query.empty()) {
            m_buffer += '?';
            m_buffer += query;
        }
        break;
    case PageQuery::KeepListed: {
        bool first = true;
        while (!query.empty()) {
            const std::size_t amp = query.find('&');
            const std::string_view param = query.substr(0, amp);
            query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
            const std::string_view name = param.substr(0, param.find('='));
            if (name.empty() ||
                std::find(m_settings.keepParams.begin(), m_settings.keepParams.end(), name) ==
                    m_settings.keepParams.end())
                continue;
            m_buffer += first ? '?' : '&';
            m_buffer += param;
            first = false;
        }
        break;
    }
    }
    return m_buffer;
}

} // namespace studio::core

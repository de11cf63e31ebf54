#include "core/csvreport.h"

#include "core/timeutil.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <tuple>

namespace studio::core {

namespace {

std::string money(std::int64_t cents)
{
    const bool negative = cents < 0;
    const std::uint64_t v = negative ? static_cast<std::uint64_t>(-cents) : static_cast<std::uint64_t>(cents);
    std::string s = std::to_string(v / 100) + '.';
    s += static_cast<char>('0' + (v % 100) / 10);
    s += static_cast<char>('0' + v % 10);
    return negative ? '-' + s : s;
}

std::string count(double estimate)
{
    return std::to_string(std::llround(estimate));
}

template <class Row, class Key>
void sortBy(std::vector<Row> &rows, Key key)
{
    std::sort(rows.begin(), rows.end(), [&](const Row &a, const Row &b) { return key(a) < key(b); });
}

bool writeFile(const std::filesystem::path &path, const std::string &content, std::string *error)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) {
        if (error)
            *error = "cannot write " + path.string();
        return false;
    }
    return true;
}

} // namespace

std::string csvText(std::string_view text)
{
    std::string cell;
    if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@'
                          || text[0] == '\t' || text[0] == '\r'))
        cell.push_back('\'');
    cell.append(text);
    if (cell.find_first_of(",\"\r\n") == std::string::npos)
        return cell;
    std::string quoted = "\"";
    for (const char c : cell) {
        if (c == '"')
            quoted.push_back('"');
        quoted.push_back(c);
    }
    quoted.push_back('"');
    return quoted;
}

void CsvReportCollector::onFinal(FinalResults &&results)
{
    for (auto &p : results.pages)
        m_pages.push_back(std::move(p.row));
    m_geo.insert(m_geo.end(), results.geo.begin(), results.geo.end());
    m_sessions.insert(m_sessions.end(), results.sessions.begin(), results.sessions.end());
    m_funnel.insert(m_funnel.end(), results.funnel.begin(), results.funnel.end());
}

bool CsvReportCollector::write(const std::string &directory, std::string *error) const
{
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    if (ec) {
        if (error)
            *error = "cannot create " + directory + ": " + ec.message();
        return false;
    }
    const std::filesystem::path dir(directory);
    const std::string crlf = "\r\n"; // RFC 4180 line ends

    auto pages = m_pages;
    sortBy(pages, [](const PageRow &r) { return std::tie(r.windowStart, r.page); });
    std::string out = "window_start,window_end,page,views,clicks,add_to_cart,purchases,revenue,"
                      "unique_users,unique_sessions" + crlf;
    for (const PageRow &r : pages)
        out += formatIsoMs(r.windowStart) + ',' + formatIsoMs(r.windowEnd) + ',' + csvText(r.page)
               + ',' + std::to_string(r.views) + ',' + std::to_string(r.clicks) + ','
               + std::to_string(r.addToCart) + ',' + std::to_string(r.purchases) + ','
               + money(r.revenueCents) + ',' + count(r.uniqueUsers) + ','
               + count(r.uniqueSessions) + crlf;
    if (!writeFile(dir / "page_metrics.csv", out, error))
        return false;

    auto geo = m_geo;
    sortBy(geo, [](const GeoRow &r) {
        return std::tie(r.windowStart, r.country, r.browser, r.deviceType);
    });
    out = "window_start,window_end,country,browser,device_type,events" + crlf;
    for (const GeoRow &r : geo)
        out += formatIsoMs(r.windowStart) + ',' + formatIsoMs(r.windowEnd) + ','
               + csvText(r.country) + ',' + csvText(r.browser) + ',' + csvText(r.deviceType) + ','
               + std::to_string(r.events) + crlf;
    if (!writeFile(dir / "geo_metrics.csv", out, error))
        return false;

    auto sessions = m_sessions;
    sortBy(sessions, [](const SessionRow &r) { return std::tie(r.start, r.userId, r.end); });
    out = "user_id,session_start,session_end,events,distinct_pages,revenue,converted" + crlf;
    for (const SessionRow &r : sessions)
        out += csvText(r.userId) + ',' + formatIsoMs(r.start) + ',' + formatIsoMs(r.end) + ','
               + std::to_string(r.events) + ',' + std::to_string(r.distinctPages) + ','
               + money(r.revenueCents) + ',' + (r.converted ? "true" : "false") + crlf;
    if (!writeFile(dir / "sessions.csv", out, error))
        return false;

    auto funnel = m_funnel;
    sortBy(funnel, [](const FunnelRow &r) { return std::tie(r.windowStart, r.productId); });
    out = "window_start,window_end,product_id,views,add_to_cart,purchases,hot_low_conversion"
          + crlf;
    for (const FunnelRow &r : funnel)
        out += formatIsoMs(r.windowStart) + ',' + formatIsoMs(r.windowEnd) + ','
               + csvText(r.productId) + ',' + std::to_string(r.views) + ','
               + std::to_string(r.addToCart) + ',' + std::to_string(r.purchases) + ','
               + (r.hotLowConversion ? "true" : "false") + crlf;
    return writeFile(dir / "product_funnel.csv", out, error);
}

} // namespace studio::core

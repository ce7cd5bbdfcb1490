#include "node/process_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace parley::node {

namespace {

// Seconds since the epoch the machine booted (/proc/stat btime), for the process start time.
double boot_time_seconds() {
  std::ifstream stat{"/proc/stat"};
  std::string key;
  double value = 0;
  while (stat >> key) {
    if (key == "btime") {
      stat >> value;
      return value;
    }
    stat.ignore(1 << 16, '\n');
  }
  return 0;
}

double count_open_fds() {
  double n = 0;
  if (auto* dir = opendir("/proc/self/fd")) {
    while (auto* entry = readdir(dir))
      if (entry->d_name[0] != '.')
        ++n;
    closedir(dir);
    --n;  // the directory handle itself
  }
  return n;
}

} // namespace

process_stats read_process_stats() {
  process_stats out;
  auto page = static_cast<double>(sysconf(_SC_PAGESIZE));
  auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  {
    std::ifstream statm{"/proc/self/statm"};
    double pages = 0, resident = 0;
    statm >> pages >> resident;
    out.virtual_bytes = pages * page;
    out.resident_bytes = resident * page;
  }
  {
    // /proc/self/stat: the command name (field 2) may hold spaces; fields count from after it.
    std::ifstream stat{"/proc/self/stat"};
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close != std::string::npos) {
      std::istringstream rest{text.substr(close + 2)};
      std::string field;
      double utime = 0, stime = 0, starttime = 0;
      // Fields 3..: state is field 3; utime 14, stime 15, starttime 22.
      for (int i = 3; i <= 22 && rest >> field; ++i) {
        if (i == 14)
          utime = std::stod(field);
        else if (i == 15)
          stime = std::stod(field);
        else if (i == 22)
          starttime = std::stod(field);
      }
      out.cpu_seconds = (utime + stime) / ticks;
      out.start_time_seconds = boot_time_seconds() + starttime / ticks;
    }
  }
  out.open_fds = count_open_fds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0)
    out.max_fds = static_cast<double>(limit.rlim_cur);
  return out;
}

} // namespace parley::node

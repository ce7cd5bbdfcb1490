// A fresh directory under /tmp for one test, removed with everything in it at scope exit.
#pragma once

#include <string>

namespace parley::test {

class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }

private:
  std::string path_;
};

} // namespace parley::test

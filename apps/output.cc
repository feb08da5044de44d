#include "apps/output.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <system_error>

#include <unistd.h>

#include "solver/io/input_error.h"

namespace ldsgd {

void WriteFileAtomically(const std::string& dir, const std::string& name, const std::string& content) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(dir, "", "cannot create directory: " + ec.message());
  const fs::path target = fs::path(dir) / name;
  const fs::path temp = fs::path(dir) / ("." + name + ".tmp." + std::to_string(::getpid()));
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      fs::remove(temp, ec);
      throw InputError(target.string(), "", "cannot write file");
    }
  }
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw InputError(target.string(), "", "cannot write file: " + ec.message());
  }
}

int Emit(const CommandOutput& output, const std::string& dir, bool json) {
  if (!dir.empty()) {
    for (const auto& [path, content] : output.files) {
      const std::size_t slash = path.rfind('/');
      if (slash == std::string::npos) {
        WriteFileAtomically(dir, path, content);
      } else {
        WriteFileAtomically(dir + "/" + path.substr(0, slash), path.substr(slash + 1), content);
      }
    }
  }
  if (json) {
    std::cout << output.doc.dump(2) << "\n";
    return 0;
  }
  std::cout << output.text;
  if (!dir.empty() && !output.wrote.empty()) std::cout << "wrote " << dir << "/" << output.wrote << "\n";
  return 0;
}

}  // namespace ldsgd

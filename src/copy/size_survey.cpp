#include "copy/size_survey.h"

#include <utility>

#include "platform/file_tree.h"

namespace hvterm::copy {

using platform::FileInfo;

SizeSurvey::SizeSurvey(std::vector<std::string> sources, bool recursive)
    : sources_(std::move(sources)), recursive_(recursive) {
  thread_started_ = uv_thread_create(
                        &thread_, [](void* self) { static_cast<SizeSurvey*>(self)->count(); }, this) == 0;
  if (!thread_started_) count();  // no thread to be had: in line, as it was
}

SizeSurvey::~SizeSurvey() {
  stop_ = true;
  if (thread_started_) uv_thread_join(&thread_);
}

uint64_t SizeSurvey::wait() {
  if (thread_started_) {
    uv_thread_join(&thread_);
    thread_started_ = false;
  }
  return total_;
}

void SizeSurvey::count() {
  uint64_t total = 0;
  struct Todo {
    std::string path;
    bool top;
  };
  std::vector<Todo> todo;
  for (const auto& s : sources_) todo.push_back({s, true});
  std::string error;
  platform::Directory directory;
  std::vector<std::string> names;
  while (!todo.empty() && !stop_) {
    Todo item = std::move(todo.back());
    todo.pop_back();
    if (item.path == "-") continue;
    FileInfo info;
    if (!platform::file_info(item.path, item.top, info, error)) continue;
    if (info.type == FileInfo::Type::File) total += info.size;
    if (info.type != FileInfo::Type::Directory || !recursive_) continue;
    // Each name of the directory is looked at from the directory, not from the root again.
    if (!platform::list_directory(item.path, names, error) || !directory.open(item.path, item.top, error)) continue;
    for (const auto& name : names) {
      if (stop_) break;
      if (!directory.info(name, info, error)) continue;
      if (info.type == FileInfo::Type::File) total += info.size;
      if (info.type == FileInfo::Type::Directory) todo.push_back({platform::join_path(item.path, name), false});
    }
  }
  total_ = total;
  done_.store(true, std::memory_order_release);
}

}  // namespace hvterm::copy

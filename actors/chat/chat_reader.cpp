#include "actors/chat/chat_reader.hpp"

#include "actors/chat/contacts.hpp"
#include "actors/runtime/errors.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <functional>

namespace parley::chat {

chat_reader_api spawn_chat_reader(caf::actor_system& sys, const storage::chat_store& store) {
  return sys.spawn<caf::detached>([&store]() -> chat_reader_api::behavior_type {
    return {
      [&store](conversations_atom,
               const std::string& user) -> caf::result<std::vector<std::string>> {
        auto read = store.conversations_of(user);
        if (!read)
          return make_error(read.error());
        return std::move(*read);
      },
      [&store](pending_atom, const std::string& user) -> caf::result<std::vector<std::string>> {
        auto read = store.pending_of(user);
        if (!read)
          return make_error(read.error());
        std::vector<std::string> convs;
        convs.reserve(read->size());
        for (auto& [conv, seq] : *read)
          convs.push_back(conv);
        return convs;
      },
      [&store](contacts_atom, const std::string& viewer,
               const std::vector<std::string>& users) -> caf::result<std::vector<std::string>> {
        contact_checker contacts{store, viewer};
        std::vector<std::string> hidden;
        for (auto& user : users) {
          auto shares = contacts.shares_conversation(user);
          if (!shares)
            return make_error(shares.error());
          if (!*shares)
            hidden.push_back(user);
        }
        std::sort(hidden.begin(), hidden.end());
        return hidden;
      },
    };
  });
}

const chat_reader_api& reader_for(const std::vector<chat_reader_api>& readers,
                                  const std::string& user) {
  return readers[std::hash<std::string>{}(user) % readers.size()];
}

} // namespace parley::chat

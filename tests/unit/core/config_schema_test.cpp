// The configuration schema: every key known, typed and range-checked, each
// refusal naming the file, line and key; files written back by toml++.
#include "core/config_schema.h"

#include <gtest/gtest.h>

namespace vouchsafe::config {
namespace {

using namespace std::chrono_literals;

enum class Colour { red, green };

struct Item {
  std::string oid;
  std::int64_t weight = 1;
};

struct Settings {
  std::string name = "default";
  bool enabled = true;
  unsigned threads = 0;
  double rate = 50;
  std::chrono::seconds lifetime = 30 * 24h;
  std::chrono::milliseconds timeout = 10s;
  Colour colour = Colour::red;
  std::vector<std::string> tags;
  std::map<std::string, Colour> per_product;
  std::map<std::string, Item> items;
};

Schema<Settings> schema() {
  Schema<Item> item;
  item.key("oid", &Item::oid, text(1, 16), "An identifier").required();
  item.key("weight", &Item::weight, integer<std::int64_t>(1, 10), "A weight");
  Schema<Settings> s;
  s.section("main", "The main section.")
      .key("name", &Settings::name, text(1, 20), "A \"name\" with quotes.")
      .key("enabled", &Settings::enabled, boolean(), "On or off")
      .key("threads", &Settings::threads, integer(0U, 1024U), "Worker threads; 0: one per core")
      .key("rate", &Settings::rate, positive_number(1e6), "Requests per second")
      .key("colour", &Settings::colour,
           one_of<Colour>({{"red", Colour::red}, {"green", Colour::green}}), "A colour")
      .key("tags", &Settings::tags, array_of(text(1, 8)), "Tags")
      .key("per_product", &Settings::per_product,
           table_of(one_of<Colour>({{"red", Colour::red}, {"green", Colour::green}})),
           "Per-product colours");
  s.section("time", "Durations.")
      .key("lifetime", &Settings::lifetime, duration<std::int64_t, std::ratio<1>>(1min, 366 * 24h),
           "How long")
      .legacy_key("lifetime_days", &Settings::lifetime,
                  count_of(std::chrono::seconds(24h), "days", 1, 366), "lifetime")
      .key("timeout", &Settings::timeout, duration<std::int64_t, std::milli>(1ms, 1h), "Timeout");
  s.tables("items", &Settings::items, item, "One table per item.");
  return s;
}

Result<Settings> read(std::string_view text) {
  return parse(schema(), text, "test.toml");
}

// The message of a refusal, or a failure if the text was accepted.
std::string refusal(std::string_view text) {
  auto r = read(text);
  if (r) {
    ADD_FAILURE() << "accepted:\n" << text;
    return {};
  }
  EXPECT_EQ(r.error().code, ErrorCode::usage);
  return r.error().message;
}

TEST(ConfigSchema, ReadsEveryTypeIntoTypedMembers) {
  auto s = read(R"(
[main]
name = "one"
enabled = false
threads = 8
rate = 2
colour = "green"
tags = ["a", "b"]
[main.per_product]
widget = "green"
[time]
lifetime = "12h"
timeout = "500ms"
[items.first]
oid = "1.2.3"
weight = 3
)");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->name, "one");
  EXPECT_FALSE(s->enabled);
  EXPECT_EQ(s->threads, 8U);
  EXPECT_EQ(s->rate, 2.0);
  EXPECT_EQ(s->colour, Colour::green);
  EXPECT_EQ(s->tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s->per_product.at("widget"), Colour::green);
  EXPECT_EQ(s->lifetime, 12h);
  EXPECT_EQ(s->timeout, 500ms);
  EXPECT_EQ(s->items.at("first").oid, "1.2.3");
  EXPECT_EQ(s->items.at("first").weight, 3);
}

TEST(ConfigSchema, KeepsDefaultsForAbsentKeys) {
  auto s = read("[main]\n");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->name, "default");
  EXPECT_EQ(s->lifetime, 30 * 24h);
}

TEST(ConfigSchema, RefusesAMisspelledKeyNamingFileLineAndTheKeyMeant) {
  EXPECT_EQ(refusal("[main]\nname = \"x\"\nthreds = 4\n"),
            "test.toml:3: [main] threds: unknown key; did you mean threads?");
}

TEST(ConfigSchema, RefusesAnUnknownKeyListingTheKnownOnes) {
  EXPECT_EQ(refusal("[time]\nxyzzy = 1\n"),
            "test.toml:2: [time] xyzzy: unknown key; [time] takes lifetime, timeout");
}

TEST(ConfigSchema, RefusesAnUnknownSection) {
  EXPECT_EQ(refusal("[mian]\nname = \"x\"\n"),
            "test.toml:1: [mian]: unknown section; did you mean [main]?");
  EXPECT_EQ(refusal("[zzzzzz]\n"),
            "test.toml:1: [zzzzzz]: unknown section; known: [main], [time], [items]");
  EXPECT_EQ(refusal("stray = 1\n"),
            "test.toml:1: stray: unknown key; keys belong in a section: [main], [time], [items]");
}

TEST(ConfigSchema, RefusesAValueOfTheWrongType) {
  EXPECT_EQ(refusal("[main]\nthreads = \"4\"\n"),
            "test.toml:2: [main] threads: expected an integer from 0 to 1024, got a string, \"4\"");
  EXPECT_EQ(refusal("[main]\nthreads = 4.0\n"),
            "test.toml:2: [main] threads: expected an integer from 0 to 1024, got a float, 4.0");
  EXPECT_EQ(refusal("[main]\nenabled = \"yes\"\n"),
            "test.toml:2: [main] enabled: expected true or false, got a string, \"yes\"");
}

TEST(ConfigSchema, RefusesOutOfRangeValues) {
  EXPECT_EQ(refusal("[main]\nthreads = -1\n"),
            "test.toml:2: [main] threads: expected an integer from 0 to 1024, got -1");
  EXPECT_EQ(refusal("[main]\nthreads = 1025\n"),
            "test.toml:2: [main] threads: expected an integer from 0 to 1024, got 1025");
  EXPECT_EQ(refusal("[main]\nrate = 0\n"),
            "test.toml:2: [main] rate: expected a number above 0, at most 1000000, got 0");
  EXPECT_NE(refusal("[main]\nrate = nan\n").find("got nan"), std::string::npos);
  EXPECT_NE(refusal("[main]\nrate = inf\n").find("got inf"), std::string::npos);
  EXPECT_EQ(refusal("[main]\nname = \"\"\n"),
            "test.toml:2: [main] name: expected a string of 1 to 20 characters, got \"\" (empty)");
  EXPECT_EQ(refusal("[main]\ncolour = \"blue\"\n"),
            "test.toml:2: [main] colour: expected one of \"red\", \"green\", got \"blue\"");
}

TEST(ConfigSchema, RefusesATableWhereAValueBelongsAndAValueWhereATableBelongs) {
  EXPECT_EQ(refusal("[main.threads]\nx = 1\n"),
            "test.toml:1: [main] threads: expected an integer from 0 to 1024, got a table");
  EXPECT_EQ(refusal("main = 5\n"),
            "test.toml:1: main: expected the table [main], got an integer, 5");
  EXPECT_EQ(refusal("[[main]]\nname = \"x\"\n"),
            "test.toml:1: main: expected the table [main], got an array");
  EXPECT_EQ(
      refusal("[main]\nper_product = \"red\"\n"),
      "test.toml:2: [main] per_product: expected a table of NAME = one of \"red\", \"green\", "
      "got a string, \"red\"");
}

TEST(ConfigSchema, NamesTheEntryAndLineOfATableOrArrayElement) {
  EXPECT_EQ(refusal("[main.per_product]\nwidget = \"red\"\n\"big gadget\" = \"blue\"\n"),
            "test.toml:3: [main.per_product] \"big gadget\": expected one of \"red\", \"green\", "
            "got \"blue\"");
  EXPECT_EQ(
      refusal("[main]\ntags = [\"a\",\n  7]\n"),
      "test.toml:3: [main] tags[1]: expected a string of 1 to 8 characters, got an integer, 7");
}

TEST(ConfigSchema, TakesDurationsWithTheirUnitsOnly) {
  auto s = read("[time]\nlifetime = \"30d\"\ntimeout = \"2m\"\n");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->lifetime, 30 * 24h);
  EXPECT_EQ(s->timeout, 2min);
  const std::string allowed =
      "expected a duration from 1m to 366d: a whole number and a unit (ms, s, m, h or d), as in "
      "\"20m\", \"12h\" or \"30d\", got ";
  EXPECT_EQ(refusal("[time]\nlifetime = 30\n"),
            "test.toml:2: [time] lifetime: " + allowed + "an integer, 30");
  EXPECT_EQ(refusal("[time]\nlifetime = \"30\"\n"),
            "test.toml:2: [time] lifetime: " + allowed + "\"30\" (no unit)");
  EXPECT_EQ(refusal("[time]\nlifetime = \"30w\"\n"),
            "test.toml:2: [time] lifetime: " + allowed + "\"30w\" (unknown unit)");
  EXPECT_EQ(refusal("[time]\nlifetime = \"59s\"\n"),
            "test.toml:2: [time] lifetime: " + allowed + "\"59s\" (out of range)");
  EXPECT_EQ(refusal("[time]\nlifetime = \"367d\"\n"),
            "test.toml:2: [time] lifetime: " + allowed + "\"367d\" (out of range)");
  EXPECT_NE(refusal("[time]\nlifetime = \"90001ms\"\n").find("(finer than the key's resolution)"),
            std::string::npos);
  EXPECT_NE(refusal("[time]\nlifetime = \"99999999999999999999d\"\n").find("(out of range)"),
            std::string::npos);
  EXPECT_NE(refusal("[time]\nlifetime = \"-1d\"\n").find("(a whole number first"),
            std::string::npos);
  EXPECT_NE(refusal("[time]\nlifetime = \"1.5h\"\n").find("(unknown unit)"), std::string::npos);
}

TEST(ConfigSchema, ReadsALegacyKeyButNotBesideTheKeyThatReplacedIt) {
  auto s = read("[time]\nlifetime_days = 2\n");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->lifetime, 48h);
  EXPECT_EQ(
      refusal("[time]\nlifetime_days = 0\n"),
      "test.toml:2: [time] lifetime_days: expected a whole number of days from 1 to 366, got 0");
  EXPECT_EQ(refusal("[time]\nlifetime = \"1d\"\nlifetime_days = 2\n"),
            "test.toml:3: [time] lifetime_days: replaced by lifetime, which line 2 sets too; keep "
            "only lifetime");
}

TEST(ConfigSchema, ReadsEachTableOfAFamilyWithItsOwnKeys) {
  EXPECT_EQ(refusal("[items.a]\noid = \"1.2\"\nwieght = 2\n"),
            "test.toml:3: [items.a] wieght: unknown key; did you mean weight?");
  EXPECT_EQ(refusal("[items.a]\nweight = 2\n"),
            "test.toml:1: [items.a] oid: missing; expected a string of 1 to 16 characters");
  EXPECT_EQ(refusal("[items]\noid = \"1.2\"\n"),
            "test.toml:2: [items] oid: expected a table [items.NAME] per entry, got a string, "
            "\"1.2\"");
}

TEST(ConfigSchema, ReportsEveryProblemOfAFileAtOnce) {
  const auto message = refusal("[main]\nthreads = -1\nnmae = \"x\"\n[time]\ntimeout = \"0ms\"\n");
  EXPECT_NE(message.find("test.toml:2: [main] threads"), std::string::npos) << message;
  EXPECT_NE(message.find("test.toml:3: [main] nmae: unknown key; did you mean name?"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("test.toml:5: [time] timeout"), std::string::npos) << message;
}

TEST(ConfigSchema, NamesTheLineOfASyntaxError) {
  EXPECT_EQ(refusal("[main]\nname = \"x\"\nname = \"y\"\n").substr(0, 12), "test.toml:3:");
}

TEST(ConfigSchema, WritesAFileThatReadsBackToTheSameValues) {
  Settings s;
  s.name = R"(quote " and \ back)";
  s.tags = {"x", "y"};
  s.per_product = {{"widget", Colour::green}, {"big gadget", Colour::red}};
  s.lifetime = 20min;
  s.timeout = 1500ms;
  s.items["first"] = {"1.2.3", 2};
  s.items["second one"] = {"1.2.4", 5};
  const auto text = schema().write(s, "# A test file.\n");
  auto back = read(text);
  ASSERT_TRUE(back) << back.error().message << "\n" << text;
  EXPECT_EQ(back->name, s.name);
  EXPECT_EQ(back->tags, s.tags);
  EXPECT_EQ(back->per_product, s.per_product);
  EXPECT_EQ(back->lifetime, 20min);
  EXPECT_EQ(back->timeout, 1500ms);
  EXPECT_EQ(back->items.at("second one").weight, 5);
  // Comments say what each key is and allows; durations keep their unit;
  // the legacy key is not written.
  EXPECT_NE(
      text.find("# A \"name\" with quotes. Allowed: a string of 1 to 20 characters.\nname = "),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("lifetime = \"20m\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("timeout = \"1500ms\"\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("lifetime_days"), std::string::npos) << text;
  EXPECT_NE(text.find("[main.per_product]\n"), std::string::npos) << text;
  EXPECT_NE(text.find("[items.\"second one\"]\n"), std::string::npos) << text;
}

TEST(ConfigSchema, ChecksTextFromTheEnvironmentOrAFlagByTheSameRules) {
  EXPECT_EQ(*parse_text(integer(0U, 1024U), "12", "VOUCHSAFE_THREADS"), 12U);
  EXPECT_EQ(parse_text(integer(0U, 1024U), "-1", "VOUCHSAFE_THREADS").error().message,
            "VOUCHSAFE_THREADS: expected an integer from 0 to 1024, got \"-1\"");
  EXPECT_EQ(parse_text(integer(0U, 1024U), "12abc", "--threads").error().message,
            "--threads: expected an integer from 0 to 1024, got \"12abc\"");
  EXPECT_EQ(*parse_text(duration<std::int64_t, std::ratio<1>>(1min, 24h), "90m", "--lifetime"),
            90min);
  EXPECT_FALSE(parse_text(boolean(), "yes", "--enabled"));
  EXPECT_FALSE(parse_text(array_of(string()), "a,b", "--tags"));
}

TEST(ConfigSchema, ChecksPathsExist) {
  Type<std::string> file = file_path(false);
  EXPECT_TRUE(parse_text(file, "/proc/self/status", "--file"));
  EXPECT_EQ(
      parse_text(file, "/nonexistent/x", "--file").error().message,
      "--file: expected the path of an existing file, got \"/nonexistent/x\" (no such file or "
      "directory)");
  EXPECT_FALSE(parse_text(file, "/tmp", "--file"));
  EXPECT_FALSE(parse_text(file, "", "--file"));
  EXPECT_TRUE(parse_text(file_path(true), "", "--file"));
  EXPECT_TRUE(parse_text(directory_path(false), "/tmp", "--dir"));
  EXPECT_FALSE(parse_text(directory_path(false), "/proc/self/status", "--dir"));
}

}  // namespace
}  // namespace vouchsafe::config

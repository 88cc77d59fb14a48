/* names.c — random container names, "adjective_surname", as Docker gives them. */
#include <stdint.h>
#include <sys/random.h>

#include "container/container.h"

static const char *const left[] = {
  "admiring",    "adoring",     "affectionate", "agitated",      "amazing",   "angry",
  "awesome",     "beautiful",   "blissful",     "bold",          "boring",    "brave",
  "busy",        "charming",    "clever",       "compassionate", "competent", "condescending",
  "confident",   "cool",        "cranky",       "crazy",         "dazzling",  "determined",
  "distracted",  "dreamy",      "eager",        "ecstatic",      "elastic",   "elated",
  "elegant",     "eloquent",    "epic",         "exciting",      "fervent",   "festive",
  "flamboyant",  "focused",     "friendly",     "frosty",        "funny",     "gallant",
  "gifted",      "goofy",       "gracious",     "great",         "happy",     "hardcore",
  "heuristic",   "hopeful",     "hungry",       "infallible",    "inspiring", "intelligent",
  "interesting", "jolly",       "jovial",       "keen",          "kind",      "laughing",
  "loving",      "lucid",       "magical",      "modest",        "musing",    "mystifying",
  "naughty",     "nervous",     "nice",         "nifty",         "nostalgic", "objective",
  "optimistic",  "peaceful",    "pedantic",     "pensive",       "practical", "priceless",
  "quirky",      "quizzical",   "relaxed",      "reverent",      "romantic",  "sad",
  "serene",      "sharp",       "silly",        "sleepy",        "stoic",     "strange",
  "stupefied",   "suspicious",  "sweet",        "tender",        "thirsty",   "trusting",
  "unruffled",   "upbeat",      "vibrant",      "vigilant",      "vigorous",  "wizardly",
  "wonderful",   "xenodochial", "youthful",     "zealous",       "zen",
};

/* Scientists and engineers. */
static const char *const right[] = {
  "agnesi",      "albattani",  "allen",    "almeida",  "archimedes", "ardinghelli",   "aryabhata",
  "babbage",     "banach",     "bardeen",  "bartik",   "bassi",      "bell",          "benz",
  "bhabha",      "black",      "bohr",     "booth",    "borg",       "bose",          "boyd",
  "brahmagupta", "brattain",   "brown",    "carson",   "cerf",       "chandrasekhar", "chatelet",
  "clarke",      "colden",     "cori",     "cray",     "curie",      "darwin",        "davinci",
  "dijkstra",    "dirac",      "driscoll", "dubinsky", "easley",     "edison",        "einstein",
  "elion",       "engelbart",  "euclid",   "euler",    "faraday",    "feistel",       "fermat",
  "fermi",       "feynman",    "franklin", "galileo",  "gauss",      "goldberg",      "goodall",
  "gould",       "haibt",      "hamilton", "hawking",  "heisenberg", "hermann",       "hertz",
  "hodgkin",     "hofstadter", "hopper",   "hypatia",  "jackson",    "jang",          "jennings",
  "johnson",     "joliot",     "kalam",    "kepler",   "khorana",    "kilby",         "knuth",
  "kowalevski",  "lalande",    "lamarr",   "lamport",  "leakey",     "lederberg",     "lehmann",
  "lewin",       "liskov",     "lovelace", "lumiere",  "mahavira",   "margulis",      "mayer",
  "mccarthy",    "mcclintock", "meitner",  "mendel",   "merkle",     "minsky",        "mirzakhani",
  "morse",       "napier",     "nash",     "neumann",  "newton",     "nobel",         "noether",
  "pascal",      "pasteur",    "payne",    "perlman",  "pike",       "poincare",      "ptolemy",
  "raman",       "ramanujan",  "ride",     "ritchie",  "rosalind",   "saha",          "sammet",
  "shannon",     "shockley",   "sinoussi", "snyder",   "spence",     "stonebraker",   "sutherland",
  "swanson",     "tesla",      "thompson", "torvalds", "turing",     "varahamihira",  "villani",
  "volhard",     "wescoff",    "wilbur",   "wiles",    "williams",   "wilson",        "wing",
  "wozniak",     "wright",     "yalow",    "yonath",
};

char *container_random_name (void)
{
  uint32_t r[2] = { 0, 0 };
  if (getrandom (r, sizeof r, 0) != sizeof r)
    r[0] = (uint32_t)now_ns (), r[1] = (uint32_t)(now_ns () >> 17);
  return xasprintf ("%s_%s", left[r[0] % ARRAY_SIZE (left)], right[r[1] % ARRAY_SIZE (right)]);
}

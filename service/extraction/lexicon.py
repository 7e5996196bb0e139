"""Word lists the extraction rules share: reporting verbs, titles, role nouns, name blockers."""


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


# Verbs that introduce speech. "show", "find" and "estimate" are left out on purpose: their
# subjects are mostly studies and figures ("the data show that ..."), not speakers; "suggest" is
# speech only with a person for subject (`PERSON_ONLY_VERBS`). "report" is a newspaper's or an
# agency's speech ("the Times reported that ..."); with a noun phrase for object ("reported higher
# profits") it has no complement clause and reports nothing.
REPORTING_VERBS = _words(
    """
    say tell add warn claim argue insist state announce explain note acknowledge admit confirm
    deny reveal stress emphasise emphasize predict promise pledge vow declare reply respond
    answer recall remark observe conclude agree write tweet post complain concede maintain
    reiterate assert allege caution accuse describe call brand label dismiss mock joke shout
    urge ask point boast threaten counter protest lament report suggest
    """
)

# Reporting verbs that report speech only when a person is their subject: "the data suggest".
PERSON_ONLY_VERBS = frozenset({"suggest"})

# Reporting verbs whose complement clause is never speech ("X called on ministers to ...").
INDIRECT_EXCLUDED = frozenset({"call", "describe", "brand", "label", "accuse", "urge", "ask"})

# Reporting verbs that report a call, request or pledge by what it asks or promises: "urged allies
# to ...", "vowed to ...", "called on Y to ...", "called for NP" (`reported._exhortation`).
EXHORTING_VERBS = frozenset({"urge", "ask", "call", "promise", "pledge", "vow"})

# Objects that belong to the cue ("told reporters", "told the Gazette").
TELLING_VERBS = frozenset({"tell", "inform", "assure", "remind", "warn"})

HONORIFIC_GENDER = {
    "mr": "m",
    "mister": "m",
    "sir": "m",
    "lord": "m",
    "baron": "m",
    "viscount": "m",
    "earl": "m",
    "duke": "m",
    "ms": "f",
    "mrs": "f",
    "miss": "f",
    "dame": "f",
    "lady": "f",
    "baroness": "f",
    "duchess": "f",
    "countess": "f",
}

# Peers are known by title and name ("Lord West"): a surname after one of these keeps it.
PEERAGE_TITLES = frozenset(
    {"lord", "lady", "baron", "baroness", "viscount", "earl", "duke", "duchess", "countess"}
)

# Words stripped from the front of a name; they also tie a role to the person ("Judge X").
TITLES = _words(
    """
    mr mrs ms miss mx dr prof professor sir dame lord lady president judge justice commander
    captain detective inspector sergeant constable di dci ds pc superintendent chief general
    colonel major lieutenant admiral prime minister chancellor senator governor mayor councillor
    bishop archbishop father reverend rev king queen prince princess secretary ambassador
    brigadier marshal commodore sheikh imam rabbi cardinal pope ayatollah pastor gen adm col
    lt capt sgt sen rep gov congressman congresswoman baroness baron viscount earl duke duchess
    countess
    """
)

# Capitalised nouns that open a sentence before a name ("Organiser Fiona Baird") and are not
# part of it; the list also feeds the fallback for untied role phrases.
ROLE_NOUNS = _words(
    """
    neighbour neighbor fiddler organiser organizer prosecutor incumbent resident farmer teacher
    nurse doctor witness spokesman spokeswoman spokesperson analyst economist campaigner
    activist lawyer barrister solicitor chairman chairwoman chair director manager boss coach
    captain striker goalkeeper player officer detective inspector councillor mayor minister
    secretary president chancellor premier governor leader chief executive founder owner
    researcher scientist professor author broadcaster correspondent reporter editor singer
    actor actress artist musician writer poet historian expert commentator mediator negotiator
    envoy ambassador diplomat official commissioner regulator headteacher principal student
    pensioner mother father son daughter wife husband sister brother parent grandmother
    grandfather survivor victim volunteer helm commander pilot driver shopkeeper landlord
    tenant developer engineer consultant adviser advisor aide candidate challenger
    representative soldier worker
    """
)

# Untied definite role phrases ("the US president") fall back to the most recent person only
# for these heads: titles a news story uses as a second reference to someone it already named.
FALLBACK_TITLES = _words(
    """
    president minister secretary chancellor premier mayor governor leader chairman chairwoman
    chair chief boss manager director executive commissioner judge coach
    """
)

ROLE_GENDER = {
    "spokeswoman": "f",
    "chairwoman": "f",
    "businesswoman": "f",
    "actress": "f",
    "mother": "f",
    "wife": "f",
    "daughter": "f",
    "sister": "f",
    "grandmother": "f",
    "queen": "f",
    "princess": "f",
    "spokesman": "m",
    "chairman": "m",
    "businessman": "m",
    "father": "m",
    "husband": "m",
    "son": "m",
    "brother": "m",
    "grandfather": "m",
    "king": "m",
    "prince": "m",
}

PRONOUN_GENDER = {"he": "m", "she": "f"}

# Last words that make a capitalised phrase an organisation or a place, never a person.
NON_PERSON_WORDS = _words(
    """
    council agency association union ministry office police bank group energy mining capital
    court hospital college university school research party federation trust station lane road
    street avenue square ridge point bay hills hill bridge river valley park house hall centre
    center church airport port club rovers united city town county republic kingdom news
    times post herald gazette courier radio tv television channel company ltd plc inc corp
    department board commission authority institute foundation fund service services army navy
    force forces parliament assembly senate congress government compact alliance summit
    festival cup league
    """
)

# "according to X" where X is a document rather than a speaker.
NON_AGENT_SOURCES = _words(
    """
    figure data report statistic study survey poll estimate record document analysis research
    calculation model filing accounts account projection forecast number
    """
)

PERSON_PRONOUNS = frozenset({"he", "she"})

# Second references to an organisation named earlier ("the company has confirmed").
GENERIC_ORG_NOUNS = _words(
    """
    company firm group business developer operator airline charity organisation organization
    carrier manufacturer retailer insurer lender startup club broadcaster publisher
    """
)

# "it" and "they" as speakers refer to an institution (or a group) named before.
GROUP_PRONOUNS = frozenset({"it", "they"})

# A document that speaks ("a statement from the Kremlin said") speaks for its author.
DOCUMENT_NOUNS = _words(
    """
    statement release letter report memo email post tweet filing note message communique
    announcement document ad advertisement video
    """
)

# Heads that make a description an organisation ("her office", "the Smith campaign").
OFFICE_NOUNS = _words(
    """
    office campaign team government administration ministry department agency party committee
    """
)

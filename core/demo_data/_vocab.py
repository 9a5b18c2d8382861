"""Static vocabulary of the demo merchant: a coffee-equipment dealer selling to cafés, hotels,
offices and home baristas in DACH and neighbouring countries.

Everything here is plain data (tuples, never sets) so iteration order is fixed.
"""

from __future__ import annotations

from typing import NamedTuple

# --- people and places -------------------------------------------------------------------------

FIRST_NAMES: tuple[str, ...] = (
    "Anna", "Lena", "Marie", "Sophie", "Laura", "Julia", "Lea", "Hannah", "Lisa", "Sarah",
    "Katharina", "Johanna", "Clara", "Emilia", "Mia", "Paula", "Franziska", "Jana", "Nina",
    "Sabine", "Petra", "Claudia", "Monika", "Ursula", "Andrea", "Birgit", "Karin", "Özlem",
    "Lukas", "Jonas", "Leon", "Felix", "Paul", "Maximilian", "Elias", "Noah", "Tim", "David",
    "Thomas", "Michael", "Andreas", "Stefan", "Markus", "Christian", "Peter", "Jürgen", "Klaus",
    "Wolfgang", "Matthias", "Florian", "Sebastian", "Tobias", "Niklas", "Jan", "Luca", "Marco",
    "Mehmet", "Ali", "Piotr", "Lars", "Sven", "Björn", "Reto", "Urs", "Beat", "Gerhard",
)

LAST_NAMES: tuple[str, ...] = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt",
    "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Huber", "Gruber", "Brunner", "Steiner",
    "Moser", "Keller", "Frei", "Baumann", "Graf", "Vogel", "Roth", "Berger", "Fuchs", "Kaiser",
    "Yilmaz", "Kaya", "Nowak", "Kowalski", "Jansen", "de Vries", "Rossi", "Martin", "Dubois",
)

_FOLD = str.maketrans({
    "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue", " ": "",
    "é": "e", "è": "e", "ò": "o", "'": "",
})


def ascii_slug(text: str) -> str:
    """Lower-case ASCII for e-mail local parts and domains (umlauts folded)."""
    return text.translate(_FOLD).lower()


class Country(NamedTuple):
    code: str
    weight: float
    phone: str
    cities: tuple[tuple[str, str], ...]  # (city, postal-code prefix)
    postal_digits: int


COUNTRIES: tuple[Country, ...] = (
    Country("DE", 0.60, "+49", (
        ("Berlin", "10"), ("Hamburg", "20"), ("München", "80"), ("Köln", "50"),
        ("Frankfurt am Main", "60"), ("Stuttgart", "70"), ("Düsseldorf", "40"),
        ("Leipzig", "04"), ("Dresden", "01"), ("Hannover", "30"), ("Nürnberg", "90"),
        ("Bremen", "28"), ("Freiburg", "79"), ("Münster", "48"), ("Regensburg", "93"),
    ), 5),
    Country("AT", 0.15, "+43", (
        ("Wien", "10"), ("Graz", "80"), ("Linz", "40"), ("Salzburg", "50"), ("Innsbruck", "60"),
    ), 4),
    Country("CH", 0.13, "+41", (
        ("Zürich", "80"), ("Bern", "30"), ("Basel", "40"), ("Luzern", "60"), ("St. Gallen", "90"),
    ), 4),
    Country("NL", 0.03, "+31", (("Amsterdam", "10"), ("Utrecht", "35"), ("Eindhoven", "56")), 4),
    Country("FR", 0.02, "+33", (("Strasbourg", "67"), ("Paris", "75"), ("Lyon", "69")), 5),
    Country("IT", 0.02, "+39", (("Bolzano", "39"), ("Milano", "20"), ("Verona", "37")), 5),
    Country("BE", 0.015, "+32", (("Bruxelles", "10"), ("Antwerpen", "20")), 4),
    Country("LU", 0.01, "+352", (("Luxembourg", "1"),), 4),
    Country("PL", 0.01, "+48", (("Wrocław", "50"), ("Szczecin", "70")), 5),
    Country("DK", 0.005, "+45", (("København", "1"), ("Aarhus", "8")), 4),
)

STREETS: tuple[str, ...] = (
    "Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schulstraße", "Dorfstraße", "Lindenallee",
    "Marktplatz", "Bergstraße", "Kirchgasse", "Industriestraße", "Am Hafen", "Ringstraße",
    "Mühlenweg", "Rosenstraße", "Goethestraße", "Parkstraße", "Wiesenweg", "Seestraße",
)

# B2B master data as an ERP knows it.
INDUSTRIES: tuple[str, ...] = (
    "cafe", "restaurant", "hotel", "office", "bakery", "catering", "healthcare", "education",
)
INDUSTRY_WEIGHTS: tuple[float, ...] = (0.24, 0.17, 0.13, 0.18, 0.10, 0.08, 0.05, 0.05)

COMPANY_WORDS: dict[str, tuple[str, ...]] = {
    "cafe": ("Café", "Kaffeehaus", "Rösterei", "Espressobar"),
    "restaurant": ("Restaurant", "Trattoria", "Gasthaus", "Bistro"),
    "hotel": ("Hotel", "Pension", "Resort", "Landhotel"),
    "office": ("Consulting", "Software", "Architekten", "Kanzlei"),
    "bakery": ("Bäckerei", "Backstube", "Konditorei"),
    "catering": ("Catering", "Event-Service", "Partyservice"),
    "healthcare": ("Praxis", "Klinik", "Pflegeheim"),
    "education": ("Akademie", "Schule", "Hochschule"),
}
COMPANY_SUFFIXES: tuple[str, ...] = ("GmbH", "GmbH & Co. KG", "AG", "KG", "e.K.", "OG")

# customer group → (share within B2B, price list, discount in per cent)
B2B_GROUPS: tuple[tuple[str, float, str, int], ...] = (
    ("trade", 0.55, "PL-TRADE", 5),
    ("standard", 0.20, "PL-STANDARD", 0),
    ("key_account", 0.15, "PL-KEY", 12),
    ("wholesale", 0.10, "PL-WHOLESALE", 18),
)

SALES_REPS: tuple[str, ...] = (
    "Katrin Vogt", "Michael Brandt", "Sandra Kühn", "Oliver Seidel", "Reto Ammann",
    "Elif Demir", "Thomas Gruber",
)

DISCOUNT_CODES: tuple[str, ...] = (
    "WELCOME10", "NEWSLETTER5", "SPRING15", "BLACKWEEK20", "BARISTA10", "FREESHIP",
)

# --- catalogue -----------------------------------------------------------------------------------


class Family(NamedTuple):
    key: str
    label: str
    category: str
    price_range: tuple[int, int]  # whole euros
    segment: str  # "professional", "home" or "all"
    features: tuple[str, ...]  # what a premium variant adds
    extra: int  # category specific: service interval / repurchase cycle (days), 0 otherwise
    pack: str = ""


MACHINES: tuple[Family, ...] = (
    Family("espresso_machine", "Espresso Machine", "machines", (1900, 9800), "professional",
           ("dual boiler", "PID temperature control", "shot timer", "flow profiling"), 180),
    Family("espresso_machine", "Home Espresso Machine", "machines", (450, 2400), "home",
           ("PID temperature control", "pre-infusion", "stainless boiler"), 365),
    Family("bean_to_cup", "Bean-to-Cup Machine", "machines", (2900, 12500), "professional",
           ("twin grinders", "automatic milk foam", "telemetry", "touch display"), 180),
    Family("bean_to_cup", "Home Bean-to-Cup", "machines", (390, 1900), "home",
           ("one-touch cappuccino", "app control", "quiet grinder"), 365),
    Family("grinder", "Coffee Grinder", "machines", (290, 2200), "all",
           ("grind-by-weight", "flat burrs 83 mm", "low retention"), 365),
    Family("filter_brewer", "Filter Coffee Brewer", "machines", (180, 1500), "all",
           ("thermal carafe", "bloom function", "twin brewer"), 365),
    Family("water_softener", "Water Softener", "machines", (150, 900), "professional",
           ("bypass adjustment", "capacity display"), 180),
    Family("milk_cooler", "Milk Cooler", "machines", (240, 1100), "professional",
           ("dual compartment", "eco mode"), 365),
)

ACCESSORIES: tuple[Family, ...] = (
    Family("tamper", "Tamper", "accessories", (19, 149), "all",
           ("calibrated spring", "walnut handle"), 0),
    Family("milk_jug", "Milk Jug", "accessories", (12, 59), "all",
           ("latte-art spout", "thermo display"), 0),
    Family("knock_box", "Knock Box", "accessories", (15, 89), "all", ("rubber bar",), 0),
    Family("cups", "Cup Set", "accessories", (18, 120), "all", ("double wall", "porcelain"), 0),
    Family("scale", "Barista Scale", "accessories", (29, 249), "all",
           ("flow-rate display", "auto timer"), 0),
    Family("brush", "Cleaning Brush Set", "accessories", (8, 35), "all", ("extra bristles",), 0),
    Family("canister", "Bean Canister", "accessories", (14, 69), "home", ("vacuum lid",), 0),
    Family("cup_warmer", "Cup Warmer", "accessories", (90, 480), "professional",
           ("four levels",), 0),
    Family("portafilter", "Bottomless Portafilter", "accessories", (39, 159), "all",
           ("precision basket",), 0),
)

CONSUMABLES: tuple[Family, ...] = (
    Family("coffee_beans", "Espresso Beans", "consumables", (14, 39), "all",
           ("single origin", "specialty grade"), 21, "1 kg"),
    Family("coffee_beans", "Filter Coffee Beans", "consumables", (12, 34), "all",
           ("organic", "direct trade"), 28, "1 kg"),
    Family("descaler", "Descaler", "consumables", (9, 29), "all", ("biodegradable",), 90, "1 l"),
    Family("cleaning_tablets", "Cleaning Tablets", "consumables", (12, 39), "all",
           ("phosphate-free",), 60, "100 pcs"),
    Family("milk_cleaner", "Milk System Cleaner", "consumables", (11, 32), "all",
           ("enzymatic",), 30, "1 l"),
    Family("filter_cartridge", "Water Filter Cartridge", "consumables", (19, 119), "all",
           ("extra capacity",), 90, "1 pc"),
    Family("paper_cups", "Paper Cups", "consumables", (24, 69), "professional",
           ("compostable",), 45, "1000 pcs"),
    Family("syrup", "Coffee Syrup", "consumables", (7, 18), "all", ("sugar-free",), 60, "0.7 l"),
)

# spare part → machine families it is made for
SPARE_PARTS: tuple[tuple[str, str, tuple[int, int], tuple[str, ...]], ...] = (
    ("group_gasket", "Group Head Gasket", (6, 24), ("espresso_machine",)),
    ("shower_screen", "Shower Screen", (9, 39), ("espresso_machine",)),
    ("steam_tip", "Steam Wand Tip", (12, 45), ("espresso_machine", "bean_to_cup")),
    ("pump", "Vibration Pump", (45, 180), ("espresso_machine",)),
    ("solenoid_valve", "Solenoid Valve", (39, 160), ("espresso_machine", "filter_brewer")),
    ("brew_unit", "Brew Unit", (89, 420), ("bean_to_cup",)),
    ("milk_seal_kit", "Milk System Seal Kit", (19, 69), ("bean_to_cup", "milk_cooler")),
    ("burr_set", "Burr Set", (39, 260), ("grinder", "bean_to_cup")),
    ("hopper", "Bean Hopper", (29, 95), ("grinder",)),
    ("spray_head", "Spray Head", (15, 60), ("filter_brewer",)),
    ("filter_head_seal", "Filter Head Seal", (8, 30), ("water_softener",)),
    ("bypass_valve", "Bypass Valve", (25, 85), ("water_softener",)),
    ("cooler_hose", "Milk Hose Kit", (14, 49), ("milk_cooler", "bean_to_cup")),
)

# service key → (label, price range, kind of visit)
SERVICES: tuple[tuple[str, str, tuple[int, int]], ...] = (
    ("installation", "Installation & Set-up", (89, 390)),
    ("maintenance", "Maintenance Service", (119, 480)),
    ("training", "Barista Training", (149, 590)),
    ("warranty", "Extended Warranty (2 years)", (79, 690)),
    ("descaling_service", "Descaling Service", (69, 220)),
)

VENDORS: dict[str, tuple[str, ...]] = {
    "machines": ("Brava", "Caffètek", "Nordmühle", "Aquaklar", "Lattello", "Vulcano"),
    "accessories": ("Baristo", "Brava", "Holzwerk", "Lattello"),
    "consumables": ("Rösterei Kranich", "Purclean", "Aquaklar", "Bohnenkontor", "Sirupa"),
    "spare_parts": ("Brava", "Caffètek", "Nordmühle", "Partsline"),
    "services": ("shoploop Demo Service",),
}

SERIES: tuple[str, ...] = (
    "Classica", "Vento", "Linea", "Forte", "Aria", "Nova", "Duetto", "Terra", "Mondo", "Piccola",
    "Atlas", "Riva", "Sole", "Luna", "Onda", "Corso",
)

CATEGORY_PREFIX: dict[str, str] = {
    "machines": "MA", "accessories": "AC", "consumables": "CO", "spare_parts": "SP",
    "services": "SV",
}

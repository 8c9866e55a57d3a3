"""Data files the corpus notebooks read, generated: same file names, columns and dtypes as the
originals, plausible sizes, fixed seeds. Nothing here is downloaded and no original is kept.

``write(names, directory)`` writes the named data sets under ``directory`` (the kernel's
working directory), at the paths the notebooks open. Seaborn's ``load_dataset`` reads its
cache first, so ``seaborn_planets`` writes ``seaborn-data/planets.csv`` and the harness points
``SEABORN_DATA`` there: ``sns.load_dataset('planets')`` then never reaches the network.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

SEABORN_DIR = "seaborn-data"

_TICKERS = {"AAPL": 7.4, "MSFT": 21.11, "XOM": 29.22, "SPX": 909.03}


def _walk(rng: np.random.Generator, start: float, n: int, scale: float = 0.015) -> np.ndarray:
    return np.round(start * np.exp(np.cumsum(rng.normal(0.0004, scale, n))), 2)


def stock_px(root: Path) -> None:
    """examples/stock_px.csv: 2,214 business days (2003-01-02 to 2011-10-14), four closes."""
    rng = np.random.default_rng(11)
    dates = pd.bdate_range("2003-01-02", "2011-10-14")
    frame = pd.DataFrame(
        {name: _walk(rng, start, len(dates)) for name, start in _TICKERS.items()}, index=dates
    )
    path = root / "examples" / "stock_px.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, date_format="%Y-%m-%d %H:%M:%S")


def macrodata(root: Path) -> None:
    """examples/macrodata.csv: 203 quarters (1959Q1 to 2009Q3) of 14 macro series."""
    rng = np.random.default_rng(12)
    n = 203
    quarters = pd.period_range("1959Q1", periods=n, freq="Q")
    frame = pd.DataFrame({"year": quarters.year, "quarter": quarters.quarter})
    for column, start in [
        ("realgdp", 2710.349),
        ("realcons", 1707.4),
        ("realinv", 286.898),
        ("realgovt", 470.045),
        ("realdpi", 1886.9),
        ("cpi", 28.98),
        ("m1", 139.7),
    ]:
        frame[column] = np.round(start * np.exp(np.cumsum(rng.normal(0.008, 0.01, n))), 3)
    frame["tbilrate"] = np.round(np.clip(rng.normal(5, 3, n), 0.02, 15), 2)
    frame["unemp"] = np.round(np.clip(rng.normal(6, 1.5, n), 3.4, 10.7), 1)
    frame["pop"] = np.round(177.146 + np.arange(n) * 0.65, 3)
    frame["infl"] = np.round(rng.normal(3.9, 3, n), 2)
    frame["realint"] = np.round(frame["tbilrate"] - frame["infl"], 2)
    path = root / "examples" / "macrodata.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def tips(root: Path) -> None:
    """examples/tips.csv: 244 restaurant bills."""
    rng = np.random.default_rng(13)
    n = 244
    bill = np.round(rng.gamma(4.5, 4.4, n) + 3, 2)
    frame = pd.DataFrame(
        {
            "total_bill": bill,
            "tip": np.round(np.clip(bill * rng.normal(0.15, 0.05, n), 1.0, 10.0), 2),
            "smoker": rng.choice(["No", "Yes"], n, p=[0.62, 0.38]),
            "day": rng.choice(["Thur", "Fri", "Sat", "Sun"], n, p=[0.25, 0.08, 0.36, 0.31]),
            "time": rng.choice(["Dinner", "Lunch"], n, p=[0.72, 0.28]),
            "size": rng.choice([1, 2, 3, 4, 5, 6], n, p=[0.02, 0.64, 0.15, 0.15, 0.02, 0.02]),
        }
    )
    path = root / "examples" / "tips.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


_AGENTS = [
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/535.11 (KHTML, like Gecko) Chrome/17.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_6_8) AppleWebKit/534.52.7 Safari/534.52.7",
    "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)",
    "GoogleMaps/RochesterNY",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 5_0_1 like Mac OS X) Mobile/9A405",
]
_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Denver",
    "Europe/London",
    "Asia/Tokyo",
    "",
]
_CITIES = [("Danvers", "MA", 42.576698, -70.954903), ("Provo", "UT", 40.218102, -111.613297)]


def bitly_usagov(root: Path) -> None:
    """datasets/bitly_usagov/example.txt: 3,560 JSON records of 1.usa.gov clicks.

    Most records have the 16 keys of the original feed (agent, country, time zone, URLs,
    epoch-second times ``t`` and ``hc``, city, coordinates); some are the short
    heartbeat records (``_heartbeat_``) the feed also carried.
    """
    rng = np.random.default_rng(14)
    lines = []
    for i in range(3560):
        if i % 120 == 119:
            lines.append(json.dumps({"_heartbeat_": 1331926000 + i}))
            continue
        city, region, lat, lon = _CITIES[i % len(_CITIES)]
        record = {
            "a": _AGENTS[int(rng.integers(len(_AGENTS)))],
            "c": "US" if rng.random() < 0.8 else "GB",
            "nk": int(rng.integers(0, 2)),
            "tz": _ZONES[int(rng.integers(len(_ZONES)))],
            "gr": region,
            "g": f"g{i:05d}",
            "h": f"h{i % 700:05d}",
            "l": "orofrog" if i % 3 else "bitly",
            "al": "en-US,en;q=0.8",
            "hh": "1.usa.gov",
            "r": f"http://www.facebook.com/l/{i:06d}/1.usa.gov/x",
            "u": f"http://www.example.gov/page/{i % 900}",
            "t": 1331920000 + int(rng.integers(0, 3600)),
            "hc": 1331820000 + int(rng.integers(0, 200000)),
            "cy": city,
            "ll": [lat, lon],
        }
        lines.append(json.dumps(record))
    path = root / "datasets" / "bitly_usagov" / "example.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def babynames(root: Path) -> None:
    """datasets/babynames/yob1880.txt … yob2010.txt: name,sex,births; 1.69M rows in all.

    Each year has more names than the one before (2,000 in 1880, about 34,000 in 2010, as in
    the original), drawn from a pool of 88,000 names with a Zipf-like popularity, so a
    column over all years has many distinct names and a clear most frequent one.
    """
    rng = np.random.default_rng(15)
    pool = np.array([f"{a}{b}{c}" for a in _SYLLABLES for b in _SYLLABLES for c in _ENDS])
    rng.shuffle(pool)
    # The names the chapter asks about by name come first, so every year has them.
    pool = np.concatenate([_NAMED, pool[~np.isin(pool, _NAMED)]])
    directory = root / "datasets" / "babynames"
    directory.mkdir(parents=True, exist_ok=True)
    years = range(1880, 2011)
    counts = np.linspace(2000, 23700, len(years)).astype(int)
    for year, count in zip(years, counts, strict=True):
        half = count // 2
        frames = []
        for sex in ("F", "M"):
            # Popular names early in the pool are chosen by every year; the tail drifts.
            head = pool[: half // 2]
            tail = rng.choice(pool[half // 2 :], half - len(head), replace=False)
            names = np.concatenate([head, tail])
            births = np.sort((70000 / (np.arange(len(names)) + 1) ** 0.9).astype(int) + 5)[::-1]
            frames.append(pd.DataFrame({"name": names, "sex": sex, "births": births}))
        pd.concat(frames).to_csv(directory / f"yob{year}.txt", header=False, index=False)


_NAMED = np.array(
    ["Mary", "John", "Harry", "Marilyn", "Leslie", "Lesley", "Leslee", "Lesli", "Lesly"]
)
_SYLLABLES = [
    "Al", "Be", "Ca", "Da", "El", "Fa", "Ga", "Ha", "Is", "Ja", "Ka", "La", "Ma", "Na", "Ol",
    "Pa", "Qu", "Ra", "Sa", "Ta", "Ul", "Va", "Wa", "Xa", "Ya", "Za", "Bri", "Cha", "Del",
    "Eve", "Flo", "Gra", "Hel", "Ida", "Jo", "Kri", "Lu", "Mi", "Ne", "Or",
]  # fmt: skip
_ENDS = [
    "", "a", "e", "i", "o", "y", "n", "na", "ne", "ny", "la", "le", "ly", "ra", "ri", "ry",
    "sa", "se", "ta", "te", "th", "ton", "son", "lyn", "belle", "ette", "ia", "ie", "io",
    "ah", "el", "en", "er", "es", "ey", "in", "is", "on", "or", "us", "ard", "ert", "ick",
    "ine", "ina", "ita", "ora", "ula", "ver", "win", "ander", "ella", "ette", "iel", "ison",
]  # fmt: skip


def movielens(root: Path) -> None:
    """datasets/movielens/{users,ratings,movies}.dat, "::"-separated: 6,040 users, 3,883
    movies, 200,000 ratings (the original has 1,000,209)."""
    rng = np.random.default_rng(16)
    directory = root / "datasets" / "movielens"
    directory.mkdir(parents=True, exist_ok=True)
    users = [
        f"{i}::{'FM'[i % 2]}::{[1, 18, 25, 35, 45, 50, 56][i % 7]}::{i % 21}::{10000 + i * 7}"
        for i in range(1, 6041)
    ]
    genres = ["Action", "Comedy", "Drama", "Animation", "Children's", "Thriller", "Romance"]
    movies = []
    for i in range(1, 3884):
        pair = "|".join(sorted({genres[i % 7], genres[(i * 3) % 7]}))
        movies.append(f"{i}::Movie number {i} ({1919 + i % 82})::{pair}")
    n = 200_000
    user_ids = rng.integers(1, 6041, n)
    movie_ids = np.minimum(rng.zipf(1.3, n), 3883)
    ratings = rng.choice([1, 2, 3, 4, 5], n, p=[0.06, 0.11, 0.26, 0.35, 0.22])
    times = 956703932 + rng.integers(0, 90_000_000, n)
    (directory / "users.dat").write_text("\n".join(users) + "\n", encoding="latin-1")
    (directory / "movies.dat").write_text("\n".join(movies) + "\n", encoding="latin-1")
    columns = zip(user_ids, movie_ids, ratings, times, strict=True)
    lines = [f"{u}::{m}::{r}::{t}" for u, m, r, t in columns]
    (directory / "ratings.dat").write_text("\n".join(lines) + "\n", encoding="latin-1")


def usda_food(root: Path) -> None:
    """datasets/usda_food/database.json: 6,636 foods, each with tags, portions and about
    fifty nutrients (value, units, description, group)."""
    rng = np.random.default_rng(17)
    groups = ["Dairy and Egg Products", "Spices and Herbs", "Baby Foods", "Fats and Oils"]
    nutrient_names = [
        ("Protein", "g", "Composition"),
        ("Total lipid (fat)", "g", "Composition"),
        ("Carbohydrate, by difference", "g", "Composition"),
        ("Energy", "kcal", "Energy"),
        ("Water", "g", "Composition"),
        ("Caffeine", "mg", "Other"),
        ("Calcium, Ca", "mg", "Elements"),
        ("Iron, Fe", "mg", "Elements"),
        ("Vitamin C, total ascorbic acid", "mg", "Vitamins"),
        ("Glycine", "g", "Amino Acids"),
        ("Zinc, Zn", "mg", "Elements"),
    ]
    foods = []
    for i in range(6636):
        chosen = rng.choice(len(nutrient_names), 7, replace=False)
        foods.append(
            {
                "id": 1000 + i,
                "description": f"Food number {i}, raw",
                "tags": ["raw"] if i % 2 else [],
                "manufacturer": "" if i % 5 else "Some Maker",
                "group": groups[i % len(groups)],
                "portions": [{"amount": 1, "unit": "cup", "grams": 240.0}],
                "nutrients": [
                    {
                        "value": round(float(rng.gamma(2, 5)), 3),
                        "units": nutrient_names[k][1],
                        "description": nutrient_names[k][0],
                        "group": nutrient_names[k][2],
                    }
                    for k in chosen
                ],
            }
        )
    path = root / "datasets" / "usda_food" / "database.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(foods), encoding="utf-8")


_CANDIDATES = [
    ("Bachmann, Michelle", "P20002721"),
    ("Romney, Mitt", "P80003353"),
    ("Obama, Barack", "P80003338"),
    ("Paul, Ron", "P80000748"),
    ("Cain, Herman", "P60003654"),
    ("Gingrich, Newt", "P60003670"),
    ("Pawlenty, Timothy", "P20002523"),
    ("Perry, Rick", "P20003281"),
    ("Santorum, Rick", "P20002671"),
    ("Huntsman, Jon", "P20003067"),
    ("Johnson, Gary Earl", "P20002556"),
    ("McCotter, Thaddeus G", "P20003166"),
    ("Roemer, Charles E. 'Buddy' III", "P20002978"),
]


def fec(root: Path) -> None:
    """datasets/fec/P00000001-ALL.csv: 150,000 contributions to 2012 presidential campaigns,
    the original's 16 columns (it has 1,001,731 rows)."""
    rng = np.random.default_rng(18)
    n = 150_000
    weights = np.array([2, 30, 45, 10] + [1.3] * 9)
    which = rng.choice(len(_CANDIDATES), n, p=weights / weights.sum())
    occupations = ["RETIRED", "ATTORNEY", "INFORMATION REQUESTED", "HOMEMAKER", "PHYSICIAN"]
    employers = ["RETIRED", "SELF-EMPLOYED", "NOT EMPLOYED", "INFORMATION REQUESTED", "IBM"]
    states = ["CA", "NY", "TX", "FL", "AL", "MA", "IL"]
    amounts = np.round(rng.lognormal(4.5, 1.3, n), 2)
    amounts[rng.random(n) < 0.01] *= -1
    frame = pd.DataFrame(
        {
            "cmte_id": [f"C00{410118 + int(k)}" for k in which],
            "cand_id": [_CANDIDATES[k][1] for k in which],
            "cand_nm": [_CANDIDATES[k][0] for k in which],
            "contbr_nm": [f"DONOR, NUMBER {i % 40000}" for i in range(n)],
            "contbr_city": rng.choice(["MOBILE", "LANETT", "PIEDMONT", "BOSTON"], n),
            "contbr_st": rng.choice(states, n),
            "contbr_zip": rng.integers(10000, 99999, n).astype(str),
            "contbr_employer": rng.choice(employers, n),
            "contbr_occupation": rng.choice(occupations, n),
            "contb_receipt_amt": amounts,
            "contb_receipt_dt": rng.choice(["20-JUN-11", "23-JUN-11", "05-JUL-11"], n),
            "receipt_desc": np.where(amounts < 0, "Refund", ""),
            "memo_cd": "",
            "memo_text": "",
            "form_tp": rng.choice(["SA17A", "SA18"], n),
            "file_num": rng.integers(736166, 800000, n),
        }
    )
    path = root / "datasets" / "fec" / "P00000001-ALL.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def seaborn_planets(root: Path) -> None:
    """seaborn-data/planets.csv (seaborn's cache): 1,035 exoplanets, six columns with nulls."""
    rng = np.random.default_rng(19)
    n = 1035
    methods = ["Radial Velocity", "Transit", "Imaging", "Microlensing", "Astrometry"]
    frame = pd.DataFrame(
        {
            "method": rng.choice(methods, n, p=[0.53, 0.39, 0.04, 0.03, 0.01]),
            "number": rng.choice([1, 2, 3, 4, 5, 6, 7], n),
            "orbital_period": np.round(rng.lognormal(5, 2, n), 4),
            "mass": np.round(rng.lognormal(0, 1, n), 3),
            "distance": np.round(rng.lognormal(3.5, 1, n), 2),
            "year": rng.integers(1989, 2015, n),
        }
    )
    for column, share in (("orbital_period", 0.04), ("mass", 0.5), ("distance", 0.22)):
        frame.loc[rng.random(n) < share, column] = np.nan
    path = root / SEABORN_DIR / "planets.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def fremont_bridge(root: Path) -> None:
    """FremontBridge.csv: hourly bicycle counts 2012-10-03 to 2019-12-31, three columns."""
    rng = np.random.default_rng(20)
    hours = pd.date_range("2012-10-03", "2019-12-31 23:00", freq="h")
    hour = hours.hour.to_numpy()
    base = 40 + 200 * np.exp(-((hour - 8) ** 2) / 4) + 180 * np.exp(-((hour - 17) ** 2) / 4)
    east = rng.poisson(base * 0.5)
    west = rng.poisson(base * 0.5)
    frame = pd.DataFrame(
        {"Fremont Bridge Total": east + west, "Fremont Bridge East Sidewalk": east},
        index=pd.Index(hours.strftime("%m/%d/%Y %I:%M:%S %p"), name="Date"),
    )
    frame["Fremont Bridge West Sidewalk"] = west
    frame.to_csv(root / "FremontBridge.csv")


def seattle_weather_noaa(root: Path) -> None:
    """SeattleWeather.csv: NOAA daily summaries (STATION, NAME, DATE, PRCP, TMAX, TMIN, …)."""
    rng = np.random.default_rng(21)
    days = pd.date_range("2012-01-01", "2020-12-31", freq="D")
    season = np.cos(2 * np.pi * (days.dayofyear.to_numpy() - 200) / 365)
    tmax = np.round(62 + 15 * season + rng.normal(0, 5, len(days)))
    frame = pd.DataFrame(
        {
            "STATION": "USW00024233",
            "NAME": "SEATTLE TACOMA AIRPORT, WA US",
            "DATE": days.strftime("%Y-%m-%d"),
            "AWND": np.round(rng.gamma(4, 2, len(days)), 2),
            "PRCP": np.round(np.where(rng.random(len(days)) < 0.45, rng.gamma(1, 0.2), 0), 2),
            "SNOW": 0.0,
            "SNWD": 0.0,
            "TAVG": np.round(tmax - 8),
            "TMAX": tmax,
            "TMIN": np.round(tmax - 15 + rng.normal(0, 3, len(days))),
        }
    )
    frame.to_csv(root / "SeattleWeather.csv", index=False)


def stockholm_td_adj(root: Path) -> None:
    """stockholm_td_adj.dat: daily temperatures 1800 to 2011, seven whitespace-separated columns
    (year, month, day, three temperatures, a quality flag), 77,431 rows."""
    rng = np.random.default_rng(22)
    days = pd.date_range("1800-01-01", "2011-12-31", freq="D")
    season = -np.cos(2 * np.pi * (days.dayofyear.to_numpy() - 15) / 365)
    temp = np.round(6.5 + 10 * season + rng.normal(0, 3, len(days)), 1)
    with (root / "stockholm_td_adj.dat").open("w", encoding="ascii") as f:
        for y, m, d, t in zip(days.year, days.month, days.day, temp, strict=True):
            f.write(f"{y:4d} {m:2d} {d:2d} {t:7.1f} {t:7.1f} {t:7.1f} 1\n")


GENERATORS: dict[str, Callable[[Path], None]] = {
    "babynames": babynames,
    "bitly_usagov": bitly_usagov,
    "fec": fec,
    "fremont_bridge": fremont_bridge,
    "macrodata": macrodata,
    "movielens": movielens,
    "seaborn_planets": seaborn_planets,
    "seattle_weather_noaa": seattle_weather_noaa,
    "stock_px": stock_px,
    "stockholm_td_adj": stockholm_td_adj,
    "tips": tips,
    "usda_food": usda_food,
}


def write(names: tuple[str, ...] | list[str], directory: Path) -> None:
    """Write the data sets ``names`` under ``directory``."""
    unknown = sorted(set(names) - set(GENERATORS))
    if unknown:
        raise ValueError(f"no generator for {unknown}; known: {sorted(GENERATORS)}")
    for name in names:
        GENERATORS[name](directory)

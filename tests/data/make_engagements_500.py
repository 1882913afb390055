"""Write tests/data/engagements_500.xlsx: the engagement log of a city's international
relations office (Barcelona's, invented for the test), 500 rows in the columns such an
office keeps, with real partner cities and networks of the default store. Deterministic:
running it again writes the same rows.

    python tests/data/make_engagements_500.py
"""

from __future__ import annotations

import random
from pathlib import Path

PARTNERS = [("Lyon", "France"), ("Milan", "Italy"), ("Munich", "Germany"), ("Amsterdam", "Netherlands"),
            ("Lisbon", "Portugal"), ("Vienna", "Austria"), ("Prague", "Czechia"), ("Warsaw", "Poland"),
            ("Stockholm", "Sweden"), ("Copenhagen", "Denmark"), ("Helsinki", "Finland"), ("Dublin", "Ireland"),
            ("Brussels", "Belgium"), ("Zurich", "Switzerland"), ("Athens", "Greece"), ("Istanbul", "Turkey"),
            ("Marseille", "France"), ("Bordeaux", "France"), ("Turin", "Italy"), ("Naples", "Italy"),
            ("Hamburg", "Germany"), ("Cologne", "Germany"), ("Rotterdam", "Netherlands"), ("Porto", "Portugal"),
            ("Seville", "Spain"), ("Bilbao", "Spain"), ("Montreal", "Canada"), ("Boston", "United States"),
            ("Chicago", "United States"), ("Buenos Aires", "Argentina"), ("São Paulo", "Brazil"),
            ("Mexico City", "Mexico"), ("Bogotá", "Colombia"), ("Santiago", "Chile"), ("Tokyo", "Japan"),
            ("Seoul", "South Korea"), ("Shanghai", "China"), ("Kyoto", "Japan"), ("Cairo", "Egypt"),
            ("Casablanca", "Morocco"), ("Dakar", "Senegal"), ("Nairobi", "Kenya"), ("Cape Town", "South Africa"),
            ("Sydney", "Australia"), ("Melbourne", "Australia"), ("Mumbai", "India"), ("Tel Aviv", "Israel"),
            ("Tunis", "Tunisia"), ("Rabat", "Morocco")]
NETWORKS = ["Eurocities", "C40", "ICLEI", "UCLG"]
TOPICS = [
    ("climate adaptation", "Heatwave plans, climate shelters and urban greening to adapt to a warming climate "
                           "and cut greenhouse gas emissions."),
    ("renewable energy", "Solar roofs on public buildings and a municipal energy company supplying "
                         "renewable electricity to households."),
    ("public transport", "Cooperation on bus electrification, cycling lanes and safe, affordable public "
                         "transport for all residents."),
    ("digital rights", "Open data, digital inclusion and the protection of residents' privacy in smart "
                       "city services and algorithms."),
    ("social housing", "Affordable housing, the renovation of social housing and the fight against "
                       "homelessness."),
    ("circular economy", "Waste prevention, recycling and reuse of materials, and reducing food waste in "
                         "markets and schools."),
    ("culture", "Exchanges of artists, festivals and the protection of cultural heritage in old towns."),
    ("migration", "Reception and inclusion of migrants and refugees, language courses and access to jobs."),
    ("water", "Safe drinking water, sanitation and the protection of coastal waters and rivers."),
    ("gender equality", "Women's participation in local government and the prevention of gender-based "
                        "violence."),
    ("education", "School partnerships, youth exchanges and vocational training for young people."),
    ("trade", "Trade missions, start-up exchanges and investment in innovation and decent jobs."),
]
KINDS = [("agreement", 0.25), ("visit", 0.3), ("event", 0.25), ("declaration", 0.05), ("project", 0.15)]
STATUS = {"agreement": ["active", "active", "ended", "suspended"], "visit": ["completed", "planned"],
          "event": ["completed", "planned"], "declaration": ["active"], "project": ["active", "completed", "planned"]}
HEADER = ["Reference", "Type", "Title", "Description", "Partner", "Partner country", "Signed", "Start", "End",
          "Review", "Place", "Status", "Documents", "Follow-ups", "Tie"]


def rows(n: int = 500, seed: int = 18) -> list[list[str]]:
    rng = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        topic, text = rng.choice(TOPICS)
        net = kind in ("event", "declaration") and rng.random() < 0.4
        partner, country = (rng.choice(NETWORKS), "") if net else rng.choice(PARTNERS)
        year = rng.randint(2008, 2027)
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        start = f"{year}-{month:02d}-{day:02d}" if rng.random() < 0.85 else str(year)
        signed = end = review = tie = docs = follow = place = ""
        status = rng.choice(STATUS[kind])
        if kind == "agreement":
            title = f"Memorandum of understanding with {partner} on {topic}"
            signed, start = start, ""
            if rng.random() < 0.6:
                review = f"{min(year + rng.choice([3, 4, 5]), 2029)}-{month:02d}"
            if rng.random() < 0.5:
                review = f"2027-{rng.randint(1, 3):02d}-{rng.randint(1, 28):02d}"
            if status == "ended":
                end = str(min(year + rng.randint(1, 6), 2026))
            if rng.random() < 0.3 and not net:
                tie = "establishes partner_of"
        elif kind == "visit":
            title = f"Delegation {'to' if rng.random() < 0.5 else 'from'} {partner}: {topic}"
            if len(start) == 10 and rng.random() < 0.7:
                end = f"{year}-{month:02d}-{min(day + rng.randint(1, 3), 28):02d}"
            place = partner if rng.random() < 0.5 else "Barcelona"
        elif kind == "event":
            title = f"{topic.capitalize()} forum {year}"
            place = partner if not net else rng.choice(["Brussels", "Paris", "Bonn", "Nairobi"])
        elif kind == "declaration":
            title = f"Declaration on {topic} ({partner})"
            signed, start = start, ""
        else:
            title = f"Joint project with {partner} on {topic}"
            if rng.random() < 0.7:
                end = str(min(year + rng.randint(1, 4), 2030))
        if rng.random() < 0.3:
            docs = f"Signed text <https://example.org/engagements/{i}.pdf>"
        if rng.random() < 0.25:
            due = f"2027-{rng.randint(1, 4):02d}-{rng.randint(1, 28):02d}" if rng.random() < 0.5 else \
                f"{year + 1}-{month:02d}-{day:02d}"
            follow = f"Report to the council ({'due ' + due}, {rng.choice(['open', 'open', 'done'])})"
        if end and end < (start or signed)[:len(end)]:
            end = ""
        out.append([f"BCN-{i:04d}", kind, f"{title} #{i}", text, partner, country, signed, start, end, review,
                    place, status, docs, follow, tie])
    return out


def main(path: Path = Path(__file__).with_name("engagements_500.xlsx")) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Engagements"
    ws.append(HEADER)
    for r in rows():
        ws.append(r)
    # a fixed creation time: the same rows give the same file
    import datetime as dt

    wb.properties.created = wb.properties.modified = dt.datetime(2026, 1, 1)
    wb.save(path)
    return path


if __name__ == "__main__":
    print(main())

"""A deterministic synthetic review corpus for a fictional reading app, "Inkwell".

``generate_demo`` writes a google-play-scraper style export (the columns the importer recognises)
and, in a separate file, the hidden "oracle" category of every review, so labeling can be
simulated. Reviews are composed from template sentences with slot fillers; each category has its
own vocabulary, but reviews also carry generic sentences, a second topic now and then, typos,
URLs, emoji, HTML and a few empty rows, so a classifier gets real but imperfect signal and the
cleaning rules have work to do. Star scores follow the text's sentiment, and the last app version
(4.5, a redesign) draws more INTERFACE complaints.

``demo_labels`` gives the two labeling rounds with which ``Workspace.demo`` turns that into a
workspace with an import and two dataset versions, so the app has history to show. Only the
standard library is used here (the CLI imports this module).
"""

from __future__ import annotations

import base64
import csv
import io
import random
import re
import uuid
from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Mapping, Sequence

from reviewtui.errors import ReviewtuiError
from reviewtui.files import atomic_output
from reviewtui.store import LabelRow

EXPORT_COLUMNS = ["reviewId", "userName", "userImage", "content", "score", "thumbsUpCount",
                  "reviewCreatedVersion", "at", "replyContent", "repliedAt"]
ORACLE_COLUMNS = ["reviewId", "label"]
EXPORT_NAME = "inkwell_reviews.csv"
ORACLE_NAME = "inkwell_oracle.csv"

TRAINING = ("SUBSCRIPTION", "CONTENT", "INTERFACE", "USER_EXPERIENCE")
DEMO_SIZE = 40_000  # reviews in the demo corpus
DEMO_SEED = 7

# version -> share of reviews; releases are two months apart from FIRST_RELEASE
VERSIONS = ("4.0", "4.1", "4.2", "4.3", "4.4", "4.5")
VERSION_WEIGHTS = (10, 13, 15, 17, 20, 25)
FIRST_RELEASE = datetime(2025, 1, 6, 9, 0, 0)
RELEASE_DAYS = 61

# category shares before and with the 4.5 redesign (which draws interface complaints)
CATEGORIES = ("INTERFACE", "CONTENT", "USER_EXPERIENCE", "SUBSCRIPTION", "OTHER", "MULTI_LABEL")
CATEGORY_WEIGHTS = (31, 27, 23, 15.5, 2.5, 1.5)
CATEGORY_WEIGHTS_REDESIGN = (50, 20, 15, 11.5, 2.0, 1.5)

# The demo's taxonomy: the original project's categories with the descriptions and examples of the
# preset reviewtui/presets/medium.toml (a test keeps the two the same), so that zero-shot
# suggestions and the zero-shot first batch work in the demo before any label.
DEMO_CATEGORIES: tuple[dict, ...] = (
    {"key": "SUBSCRIPTION", "name": "Subscription", "colour": "#E4572E", "train": True,
     "description": "Paying to read: the membership or subscription, its price, the paywall and the limit on free "
                    "articles, free trials, billing, charges and refunds.",
     "examples": ["i hit the paywall after two stories, not paying a monthly fee just to read",
                  "the membership is too expensive for what it offers",
                  "they charged my card as soon as the free trial started and won't refund me",
                  "worth the subscription, happy to pay to support the writers",
                  "only three free articles a month? let me read more before asking for money"]},
    {"key": "CONTENT", "name": "Content", "colour": "#2E86AB", "train": True,
     "description": "What there is to read: the articles and stories, their quality and topics, the writers and the "
                    "community, what readers learn from them, and the recommended reads.",
     "examples": ["the articles are well written and i learn something new every day",
                  "great writers on tech, science and self improvement",
                  "lately my feed is full of clickbait and low quality posts",
                  "very informative stories about every topic i care about",
                  "too many political opinion pieces, i want more programming articles"]},
    {"key": "INTERFACE", "name": "Interface", "colour": "#F3A712", "train": True,
     "description": "How the app works and looks: design, layout, navigation, buttons and missing features, bugs and "
                    "crashes, slow loading, updates that broke something, signing in and settings.",
     "examples": ["since the last update the app crashes every time i open an article",
                  "pages take forever to load and the screen freezes when i scroll",
                  "please add a dark mode and an option to change the font size",
                  "the new layout is confusing, i can't find my bookmarks anymore",
                  "search doesn't work and i can't sign in with my google account"]},
    {"key": "USER_EXPERIENCE", "name": "User experience", "colour": "#4CAF50", "train": True,
     "description": "The overall feeling about the app without a specific detail: general praise or disappointment, "
                    "how pleasant and easy it is to use day to day, recommending it to others.",
     "examples": ["love this app, i use it every day", "nice app, very easy to use",
                  "best reading app i have ever used, highly recommend it",
                  "good experience overall, it keeps getting better", "meh, not what i expected"]},
    {"key": "OTHER", "name": "Other", "colour": "#9E9E9E", "train": False,
     "description": "Reviews that fit no category: questions, tests, a single word, another language.",
     "examples": ["ok", "hello from brazil!", "my cat walked on the screen and gave five stars"]},
    {"key": "MULTI_LABEL", "name": "Multi label", "colour": "#8E44AD", "train": False,
     "description": "Reviews about two or more categories at once; kept out of training.",
     "examples": ["good articles but the subscription price doubled and the new menu is a mess",
                  "love the writers, hate that it crashes when i renew my plan",
                  "content is great, interface is awful"]},
)

# P(negative), P(positive); the rest is mixed
POLARITY = {"SUBSCRIPTION": (0.80, 0.10), "INTERFACE": (0.62, 0.24), "CONTENT": (0.42, 0.43),
            "USER_EXPERIENCE": (0.18, 0.70)}
SCORE_WEIGHTS = {"neg": (60, 25, 10, 3, 2), "neg_sub": (74, 17, 6, 2, 1), "pos": (1, 2, 6, 30, 61),
                 "mixed": (8, 22, 40, 22, 8), "other": (12, 8, 18, 22, 40)}

SLOTS: dict[str, tuple[str, ...]] = {
    "price": ("$4.99", "$5", "$5 a month", "$50 a year", "€5/month", "£4.99", "$6.99", "$60"),
    "price2": ("$6.99", "$7", "$8 a month", "$70 a year", "€7/month"),
    "plan": ("membership", "subscription", "premium plan", "yearly plan", "monthly plan", "Inkwell+"),
    "payment": ("card", "credit card", "Google Play account", "PayPal", "debit card"),
    "topic": ("politics", "tech", "programming", "self-help", "personal finance", "startups", "data science",
              "productivity", "health", "crypto", "design", "writing", "history", "science", "AI",
              "parenting", "travel", "psychology", "climate", "sports"),
    "topic2": ("crypto", "self-help", "politics", "celebrity gossip", "hustle culture", "AI hype", "diet tips",
               "relationship advice", "marketing"),
    "ui": ("bookmark icon", "clap button", "search bar", "menu", "bottom tab bar", "highlight tool",
           "share button", "reading list tab", "settings page", "follow button", "back button",
           "notification bell", "profile tab", "toolbar"),
    "device": ("Pixel 7", "Pixel 8", "Galaxy S23", "Galaxy S21", "Galaxy Tab", "tablet", "Chromebook",
               "OnePlus 11", "Xiaomi phone", "Moto G", "old Android phone", "foldable"),
    "place": ("train", "bus", "subway", "plane", "commute", "lunch break", "couch"),
    "time": ("morning", "evening", "night", "day", "lunch break", "weekend"),
    "intens": ("really", "so", "super", "extremely", "incredibly", "way too", "pretty", "very"),
    "n": ("2", "3", "5", "10", "12", "15", "20"),
    "years": ("2", "3", "4", "5", "6"),
    "competitor": ("Substack", "the newspapers", "Netflix", "Spotify", "other apps"),
    "relative": ("sister", "brother", "friend", "colleague", "teacher", "wife", "husband"),
    "persona": ("student", "writer", "developer", "teacher", "nurse", "long time member", "daily reader",
                "paying member", "night owl", "book lover", "commuter"),
    "when": ("the update", "last week", "yesterday", "this month", "the redesign", "I reinstalled", "March",
             "the summer", "day one"),
    "version": ("4.5", "4.5.0", "4.5.1", "latest", "new"),
}

SENTENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "SUBSCRIPTION": {
        "neg": (
            "The paywall is {intens} annoying, I can't read a single article without paying.",
            "{price} for a few articles? No thanks.",
            "They charged me {price} after the free trial even though I cancelled.",
            "I want a refund, I was billed twice this month.",
            "Every good story is member-only now.",
            "Cancelling my {plan} was a nightmare, it is hidden somewhere in the web settings.",
            "The free trial ended and they took {price} without any reminder.",
            "Too expensive for what you get, {price} is a lot.",
            "Why do I have to pay to read {topic} articles that are free on the author's blog?",
            "Three free stories a month is ridiculous.",
            "Billing is broken, my {payment} was charged but the {plan} never activated.",
            "The price went up from {price} to {price2} with no warning.",
            "I paid for the {plan} and still hit the paywall on member-only stories.",
            "My {plan} doesn't carry over between the app and the website.",
            "Hit the paywall after two articles.",
            "Greedy. Everything is behind a paywall now.",
            "Stop pushing the membership popup every time I open a story.",
            "No student discount and {price} is too much for me.",
            "I requested a refund {n} days ago and still nothing.",
            "The {plan} renewed automatically and charged my {payment} {price}.",
            "Paying {price2} for this is a joke when half the stories are member-only teasers.",
            "Restore purchase does nothing, I lost my {plan} after reinstalling.",
        ),
        "pos": (
            "The {plan} is worth every penny, {price} is fair.",
            "Happy to pay to support the writers.",
            "The free trial convinced me, I subscribed to the yearly plan.",
            "Member-only stories are worth the price.",
            "The refund was quick and painless.",
            "The annual plan is a good deal compared to {competitor}.",
            "Paying for the {plan} removes the popups, totally worth it.",
            "For {price} I get unlimited stories, best money I spend.",
        ),
        "short": ("paywall everywhere", "too expensive", "want my money back", "refund please",
                  "stop charging me", "worth the membership", "pay to read no thanks", "subscription scam",
                  "cancel my subscription", "overpriced membership"),
    },
    "CONTENT": {
        "neg": (
            "The feed is full of clickbait {topic} articles.",
            "The quality of the stories has gone down a lot, it's all listicles now.",
            "Too much {topic2}, I keep telling it I'm not interested.",
            "The recommendations are terrible, I follow {topic} and get {topic2}.",
            "Same recycled articles about {topic} every day.",
            "Half the writers are just reposting AI-generated content.",
            "Way too much politics in my feed.",
            "Writers I follow never show up in my feed.",
            "The articles are shallow and full of affiliate links.",
            "Lots of misinformation in the {topic} stories and nobody moderates it.",
            "Every story is '10 ways to get rich' style {topic2} junk.",
            "Staff picks are always the same handful of writers.",
            "Clickbait titles, then the article says nothing.",
            "I'm tired of reading the same opinion pieces on {topic}.",
            "The {topic} writers left and the quality went with them.",
        ),
        "pos": (
            "Great articles on {topic}, I learn something every day.",
            "The writers here are amazing, especially in {topic}.",
            "Best place to read about {topic}.",
            "The recommendations are spot on, it knows I like {topic} and {topic}.",
            "High quality stories, way better than news sites.",
            "I found so many great writers thanks to the daily digest.",
            "Love the variety of topics, from {topic} to {topic}.",
            "The {topic} publications are excellent.",
            "Thoughtful, well written essays you can't find anywhere else.",
            "I discovered fantastic {topic} authors here.",
        ),
        "short": ("great articles", "clickbait everywhere", "love the writers", "too much politics",
                  "quality content", "boring stories", "good reads", "amazing writers", "low quality articles",
                  "interesting stories"),
    },
    "INTERFACE": {
        "neg": (
            "The {ui} is {intens} hard to find.",
            "Dark mode is broken, some text is black on dark grey.",
            "The font is way too small and there is no way to change it.",
            "I can't change the text size on my {device}.",
            "The app crashes on open on my {device}.",
            "It keeps crashing when I tap the {ui}.",
            "Scrolling is jumpy and the layout shifts while images load.",
            "The navigation makes no sense, the {ui} moved again.",
            "Too many buttons on the bottom bar, the layout is cluttered.",
            "Why did you remove the {ui}? Bring it back.",
            "The bottom tab bar covers the last lines of the article.",
            "Landscape mode on my {device} is a mess.",
            "The highlight tool is fiddly and highlights disappear.",
            "The clap button is too close to the share button.",
            "Buttons are tiny on my {device}.",
            "Text overlaps the images in long articles.",
            "The dark mode toggle is buried in the settings page.",
            "The layout is broken on my {device}, half the screen is empty.",
        ),
        "redesign": (
            "The new design is confusing, I can't find my {ui} anymore.",
            "This update ruined the layout, everything is bigger and uglier.",
            "The redesign in the {version} update is a step back, bring the old home screen back.",
            "The new design is so cluttered, too much whitespace and tiny text.",
            "Since the last update the {ui} is gone from the home screen.",
            "Who approved this new interface? The navigation is a maze.",
            "Please bring back the old layout, the new design is confusing.",
            "The new update moved every button, the {ui} is hidden now.",
        ),
        "pos": (
            "Clean layout and a beautiful font.",
            "Dark mode looks great on my {device}.",
            "Simple interface, everything is where I expect it.",
            "Love the minimal design, no clutter.",
            "The highlight tool and the {ui} are well designed.",
            "The font and spacing make long articles easy on the eyes.",
            "Nice typography and a tidy layout.",
        ),
        "redesign_pos": (
            "The new design is much cleaner, love the bigger font.",
            "The {version} redesign looks modern and the navigation is clearer.",
        ),
        "short": ("font too small", "dark mode please", "crashes on open", "confusing new design", "ugly update",
                  "clean design", "bring back old layout", "buttons too small", "keeps crashing", "nice layout"),
    },
    "USER_EXPERIENCE": {
        "neg": (
            "Notifications are out of control, I get {n} a day.",
            "The app is so slow to load articles, even on wifi.",
            "Offline reading never works when I'm on the {place}.",
            "Reading progress doesn't sync between my phone and my {device}.",
            "It logs me out every few days.",
            "Battery drain is terrible lately.",
            "It takes forever to open, like {n} seconds.",
            "The reading experience is interrupted all the time.",
            "Audio narration keeps stopping when the screen locks.",
            "Search is useless, I can't find articles I read yesterday.",
            "Loading is {intens} slow and it freezes now and then.",
        ),
        "pos": (
            "Love this app, I read on it every {time}.",
            "So easy to use and the reading experience is smooth.",
            "Fast, smooth and no ads.",
            "My favourite app for reading on the {place}.",
            "Offline reading is a lifesaver on my commute.",
            "The app just works, quick and reliable.",
            "It syncs perfectly between my phone and my {device}.",
            "Reading lists make it easy to save stories for later.",
            "Notifications are useful and not spammy.",
            "The best reading experience of any app I have used.",
            "Audio narration is great on the {place}.",
            "Everything is {intens} smooth and fast.",
            "I love how easy it is to pick up where I left off.",
        ),
        "short": ("love it", "love the app", "easy to use", "smooth", "very slow", "great app",
                  "too many notifications", "works great", "excellent app", "so smooth", "best app ever",
                  "fast and easy"),
    },
}

OTHER_TEXTS = (
    "ok", "nice", "meh", "good", "why", "first review", "Test", "Can you add Hindi?",
    "Is there a desktop version?", "How do I contact the developer?", "Downloaded it for school.",
    "My {relative} recommended it.", "no comment", "Great!!", "5 stars", "Please reply to my email",
    "I don't know yet, just installed it.", "app", "hmm", "Does it work in Brazil?", "Just ok I guess",
    "Not bad not great", "Is this the same as the website?", "What happened to my account name?",
)
FILLERS = (
    "I use it every day.", "Long time user here.", "Been reading on Inkwell for {years} years.",
    "Downloaded it last week.", "My {relative} recommended it.", "I mostly read on the {place}.",
    "I use it on my {device}.", "Used to love this app.", "First time writing a review.",
)
CLOSERS = {
    "neg": ("Please fix.", "Uninstalling.", "Very disappointed.", "Fix this please!!", "1 star until it's fixed.",
            "Not happy.", "Do better.", "Deleting the app."),
    "pos": ("Thanks!", "Keep it up!", "Highly recommend.", "5 stars.", "Great job team.", "Thank you Inkwell!"),
    "mixed": ("Otherwise fine.", "Still a decent app.", "3 stars for now.", "Hope it gets better."),
}
# category-neutral variation, so the same template reads differently from review to review
LEADS = {"neg": ("Honestly,", "Tbh", "Ok so", "Well,", "Seriously,", "To be fair,", "I have to say", "Ngl",
                 "For me", "In my opinion", "Btw", "Sadly", "Since {when},", "Ugh,", "As a {persona},", "Guys,",
                 "Also", "Hmm,", "Right now"),
         "pos": ("Honestly,", "Tbh", "Ok so", "Well,", "Seriously,", "To be fair,", "I have to say", "Ngl",
                 "For me", "In my opinion", "Btw", "Overall", "Wow,", "As a {persona},", "Also", "Genuinely,",
                 "Really,")}
TAILS = {"neg": ("!", "!!", "...", " smh.", " :(", " ugh.", " seriously.", " for real.", " again.",
                 ", so annoying.", " imo.", " tbh.", "?!", ", really."),
         "pos": ("!", "!!", " :)", " tbh.", " imo.", " <3", ", really.", " honestly.", ", so good.", " 10/10.",
                 "...", " for real.")}
SHORT_LEADS = ("ugh", "wow", "meh,", "honestly", "just", "seriously", "so", "pls", "why", "literally")
SHORT_TAILS = ("!", "!!", "!!!", " lol", " pls", " tbh", " imo", " smh", " :(", " :)", "...", " ffs", " ok")
TURNS = ("But", "However,", "That said,", "Only problem:", "On the other hand,")
SECOND_TOPIC = ("Also,", "And", "Plus", "Oh and", "Besides that,")
EMOJI = ("👍", "😡", "❤️", "🙄", "😍", "🔥", "😤", "📚", "⭐⭐⭐⭐⭐", "💸")
URLS = ("https://inkwell.app/help", "http://bit.ly/3xInkw", "www.inkwell.app/membership",
        "https://support.inkwell.app/hc/en-us/requests/new")
HTML_BITS = ("<br>", "<br/>", "<b>", "</b>", "<i>", "&amp;")
EMPTY_TEXTS = ("", " ", "   ", "\t", "👍👍", "<br>", "⭐⭐⭐⭐⭐", "😡😡😡")

FIRST_NAMES = ("Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Ethan", "Sofia", "Mateo", "Amara",
               "Kenji", "Priya", "Arjun", "Chloe", "Jonas", "Fatima", "Omar", "Lea", "Tom", "Sarah", "David",
               "Nina", "Hugo", "Ines", "Yuki", "Wei", "Ana", "Carlos", "Grace", "Ravi", "Zoe", "Ben", "Ivy")
LAST_NAMES = ("Smith", "Garcia", "Müller", "Nguyen", "Patel", "Kim", "Rossi", "Dubois", "Silva", "Okafor",
              "Johnson", "Brown", "Kowalski", "Jensen", "Tanaka", "Martin", "Lopez", "Ahmed", "Walker", "Chen")
REPLIES = {
    "SUBSCRIPTION": ("Hi {name}, sorry about the billing trouble. Please write to support@inkwell.app with your "
                     "order number and we'll sort out the refund.",
                     "Thanks for the feedback on pricing, {name}. Members can cancel anytime from Settings > "
                     "Membership."),
    "CONTENT": ("Thanks {name}! You can tune your feed by following topics you love and muting the rest.",
                "Hi {name}, we're working on better recommendations. Tap 'Show less like this' to help us."),
    "INTERFACE": ("Hi {name}, thanks for the feedback on the new design. We're listening and shipping fixes "
                  "in the next update.",
                  "Sorry for the crashes, {name}. Please update to the latest version and let us know if it "
                  "persists."),
    "USER_EXPERIENCE": ("Thanks for the kind words, {name}! Happy reading.",
                        "Hi {name}, you can manage notifications in Settings > Notifications."),
    "OTHER": ("Hi {name}, thanks for your review! Reach us at support@inkwell.app.",),
}
REPLIES["MULTI_LABEL"] = REPLIES["OTHER"]

SLOT_RE = re.compile(r"\{(\w+)\}")
EMPTY_SHARE = 0.008
DUPLICATE_SHARE = 0.015


@dataclass(frozen=True)
class DemoFiles:
    """The files ``generate_demo`` wrote."""

    export_csv: Path
    oracle_csv: Path
    size: int


class _Composer:
    """Draws one review (text, label, score) at a time from a seeded random generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()  # templates of the review being composed
        self._fill: Callable[[re.Match], str] = lambda m: rng.choice(SLOTS[m.group(1)])

    def fill(self, template: str) -> str:
        return SLOT_RE.sub(self._fill, template) if "{" in template else template

    def sentence(self, category: str, polarity: str, redesign: bool) -> str:
        pools = SENTENCES[category]
        rng = self.rng
        pool = pools[polarity]
        if category == "INTERFACE":
            if polarity == "neg" and rng.random() < (0.65 if redesign else 0.03):
                pool = pools["redesign"]
            elif polarity == "pos" and redesign and rng.random() < 0.35:
                pool = pools["redesign_pos"]
        template = rng.choice(pool)
        if template in self.used:  # one more try for a sentence this review has not said yet
            template = rng.choice(pool)
        self.used.add(template)
        text = self.fill(template)
        if rng.random() < 0.4:
            text = f"{self.fill(rng.choice(LEADS[polarity]))} {_lower_first(text)}"
        if rng.random() < 0.3 and text.endswith("."):
            text = text[:-1] + rng.choice(TAILS[polarity])
        return text

    def short(self, category: str) -> str:
        rng = self.rng
        text = rng.choice(SENTENCES[category]["short"])
        if rng.random() < 0.35:
            text = f"{rng.choice(SHORT_LEADS)} {text}"
        if rng.random() < 0.45:
            text += rng.choice(SHORT_TAILS)
        return text

    def body(self, category: str, polarity: str, redesign: bool) -> list[str]:
        """The sentences of a single-topic review."""
        rng = self.rng
        r = rng.random()
        if r < 0.14:  # a fragment: "paywall everywhere"
            return [self.short(category)]
        if polarity == "mixed":
            pos = self.sentence(category, "pos", redesign)
            neg = self.sentence(category, "neg", redesign)
            first, second = (pos, neg) if rng.random() < 0.6 else (neg, pos)
            return [first, f"{rng.choice(TURNS)} {_lower_first(second)}"]
        n = 1 if r < 0.55 else 2 if r < 0.86 else rng.randint(3, 4)
        return list(dict.fromkeys(self.sentence(category, polarity, redesign) for _ in range(n)))

    def review(self, category: str, redesign: bool) -> tuple[list[str], str]:
        """(sentences, polarity) for a review whose main topic is ``category``."""
        rng = self.rng
        self.used.clear()
        if category == "OTHER":
            return [self.fill(rng.choice(OTHER_TEXTS))], "other"
        if category == "MULTI_LABEL":
            a, b = rng.sample(TRAINING, 2)
            pa = "neg" if rng.random() < POLARITY[a][0] + 0.1 else "pos"
            pb = "neg" if rng.random() < POLARITY[b][0] + 0.1 else "pos"
            first = self.sentence(a, pa, redesign)
            second = self.sentence(b, pb, redesign)
            polarity = pa if pa == pb else "mixed"
            parts = [first, f"{rng.choice(SECOND_TOPIC)} {_lower_first(second)}"]
            if rng.random() < 0.4:
                parts.append(self.sentence(rng.choice((a, b)), pa, redesign))
            return parts, polarity
        neg, pos = POLARITY[category]
        r = rng.random()
        polarity = "neg" if r < neg else "pos" if r < neg + pos else "mixed"
        parts = self.body(category, polarity, redesign)
        if rng.random() < 0.13:  # a second, minor topic: the oracle keeps the main one
            other = rng.choice([c for c in TRAINING if c != category])
            side = self.short(other) if rng.random() < 0.5 else self.sentence(other, polarity if polarity != "mixed"
                                                                            else "neg", redesign)
            parts.append(f"{rng.choice(SECOND_TOPIC)} {_lower_first(side)}")
        if len(parts) > 1 or rng.random() < 0.3:
            if rng.random() < 0.18:
                parts.insert(0, self.fill(rng.choice(FILLERS)))
            if rng.random() < 0.22:
                parts.append(rng.choice(CLOSERS[polarity]))
        return parts, polarity

    def score(self, category: str, polarity: str) -> int:
        rng = self.rng
        if rng.random() < 0.03:  # people misclick stars
            return rng.randint(1, 5)
        key = "neg_sub" if polarity == "neg" and category == "SUBSCRIPTION" else polarity
        return rng.choices((1, 2, 3, 4, 5), weights=SCORE_WEIGHTS[key])[0]

    def decorate(self, parts: list[str], polarity: str) -> str:
        """Join sentences and add the noise real reviews have (case, typos, emoji, URLs, HTML)."""
        rng = self.rng
        if len(parts) > 2 and rng.random() < 0.04:
            text = "\n".join(parts)
        elif len(parts) > 1 and rng.random() < 0.03:
            text = f" {rng.choice(HTML_BITS)} ".join(parts)
        else:
            text = " ".join(parts)
        r = rng.random()
        if r < 0.16:
            text = text.lower()
        elif r < 0.17 and polarity == "neg":
            text = text.upper()
        elif r < 0.20:
            text = text.rstrip(".") + "!!"
        if rng.random() < 0.05:
            text = _typo(rng, text)
        if rng.random() < 0.04:
            text = f"{text} {rng.choice(EMOJI)}"
        if rng.random() < 0.012:
            text = f"{text} {rng.choice(URLS)}"
        if rng.random() < 0.01:
            text = f"<b>{text}</b>"
        if text and text[0].islower() and rng.random() < 0.3:
            text = text[0].upper() + text[1:]
        return text


def _lower_first(text: str) -> str:
    if text[:2] in ("I ", "I'") or text[:1].isupper() and text[1:2].isupper():
        return text
    return text[:1].lower() + text[1:]


def _typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    if rng.random() < 0.5:
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]  # swap two letters
    else:
        words[i] = w[:j] + w[j + 1:]  # drop one
    return " ".join(words)


def _fmt(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def generate_demo(out_dir: Path, size: int = DEMO_SIZE, seed: int = DEMO_SEED) -> DemoFiles:
    """Write ``inkwell_reviews.csv`` (google-play-scraper columns) and ``inkwell_oracle.csv``
    (reviewId, label) into ``out_dir`` (created if missing). The same ``size`` and ``seed`` give
    byte-identical files. Returns their paths. Raises ReviewtuiError when ``size`` is not positive.

    Memory stays near one encoded CSV line per review (a million reviews: about 0.5 GB), and each
    file is written through a temporary name and renamed, so a killed run leaves no half file."""
    if int(size) < 1:
        raise ReviewtuiError(f"the demo needs at least one review, not {size}")
    size = int(size)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ReviewtuiError(f"{out_dir}: exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)

    rng = random.Random(seed)
    comp = _Composer(rng)
    version_cum = _cumulative(VERSION_WEIGHTS)
    cat_cum = _cumulative(CATEGORY_WEIGHTS)
    cat_cum_redesign = _cumulative(CATEGORY_WEIGHTS_REDESIGN)
    window = RELEASE_DAYS * 86_400
    # one review = its CSV line (UTF-8) plus the few numbers that sorting and duplicates need
    lines: list[bytes] = []
    seconds_of = array("q")
    label_of = bytearray()
    version_index_of = bytearray()
    line_buf = io.StringIO()
    line_writer = csv.writer(line_buf, lineterminator="\n")
    for i in range(size):
        v = rng.choices(range(len(VERSIONS)), cum_weights=version_cum)[0]
        redesign = v == len(VERSIONS) - 1
        frac = rng.random() ** 1.6  # reviews cluster after a release
        seconds = v * window + int(frac * window)
        patch = min(3, int(frac * 4))
        version = "" if rng.random() < 0.07 else f"{VERSIONS[v]}.{patch}"
        at = FIRST_RELEASE + timedelta(seconds=seconds)

        if lines and rng.random() < DUPLICATE_SHARE:  # the same user posting (almost) the same again
            src = rng.randrange(len(lines))
            fields = next(csv.reader(io.StringIO(lines[src].decode("utf-8"))))
            text = fields[3]
            text = rng.choice((text, text + " ", text + "!!", text.lower(), text.upper(), "Edit: " + text))
            label = CATEGORIES[label_of[src]]
            score = int(fields[4])
            name = fields[1]
            v = version_index_of[src]
            seconds = min(seconds_of[src] + rng.randint(60, 3 * 86_400), (v + 1) * window - 1)
            at = FIRST_RELEASE + timedelta(seconds=seconds)
            version = fields[6]
        elif rng.random() < EMPTY_SHARE:
            text, label, score, name = rng.choice(EMPTY_TEXTS), "OTHER", rng.randint(1, 5), _user_name(rng)
        else:
            label = CATEGORIES[rng.choices(range(len(CATEGORIES)),
                                           cum_weights=cat_cum_redesign if redesign else cat_cum)[0]]
            parts, polarity = comp.review(label, redesign)
            text = comp.decorate(parts, polarity)
            score = comp.score(label, polarity)
            name = _user_name(rng)

        review_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        image = ("https://play-lh.googleusercontent.com/a-/ALV-UjW"
                 + base64.urlsafe_b64encode(rng.getrandbits(264).to_bytes(33, "big")).decode())
        thumbs = 0
        if rng.random() < 0.45:
            thumbs = min(9_999, int(rng.paretovariate(1.15 if score <= 2 else 1.5)))
        reply = replied = ""
        if rng.random() < (0.28 if score <= 2 else 0.12):
            first = name.split(" ")[0] if name != "A Google user" else "there"
            reply = rng.choice(REPLIES[label]).replace("{name}", first)
            replied = _fmt(at + timedelta(seconds=rng.randint(3_600, 9 * 86_400)))
        line_buf.seek(0)
        line_buf.truncate()
        line_writer.writerow([review_id, name, image, text, str(score), str(thumbs), version, _fmt(at), reply,
                              replied])
        lines.append(line_buf.getvalue().encode("utf-8"))
        seconds_of.append(seconds)
        label_of.append(CATEGORIES.index(label))
        version_index_of.append(v)

    # newest first, like the scraper (ties in draw order): one integer key per review
    latest = max(seconds_of)
    keys = [(latest - s) * size + i for i, s in enumerate(seconds_of)]
    keys.sort()
    files = DemoFiles(out_dir / EXPORT_NAME, out_dir / ORACLE_NAME, size)
    with atomic_output(files.export_csv, "wb", buffering=1 << 20) as export, \
            atomic_output(files.oracle_csv, "wb", buffering=1 << 20) as oracle:
        export.write((",".join(EXPORT_COLUMNS) + "\n").encode("utf-8"))
        oracle.write((",".join(ORACLE_COLUMNS) + "\n").encode("utf-8"))
        for key in keys:
            i = key % size
            line = lines[i]
            export.write(line)
            # a review id is a UUID: the CSV writer never quotes it, so it is the line's first 36 bytes
            oracle.write(line[:36] + b"," + CATEGORIES[label_of[i]].encode("ascii") + b"\n")
    return files


def _cumulative(weights: tuple[float, ...]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _user_name(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.08:
        return "A Google user"
    first = rng.choice(FIRST_NAMES)
    if r < 0.55:
        return f"{first} {rng.choice(LAST_NAMES)}"
    if r < 0.75:
        return f"{first} {rng.choice(LAST_NAMES)[0]}."
    return f"{first.lower()}{rng.randint(1, 9999)}"


def read_oracle(path: Path) -> dict[str, str]:
    """reviewId -> label from an oracle file written by ``generate_demo``."""
    with open(path, encoding="utf-8", newline="") as fh:
        return {row["reviewId"]: row["label"] for row in csv.DictReader(fh)}


@dataclass
class DemoLabels:
    """The two labeling rounds of the demo workspace. ``first`` (about 240 oracle labels) becomes
    dataset-1; ``second`` relabels 6 of them to another category and adds 60 more, and the
    ``reviewed`` ids (10 of the first round) become REVIEWED: together dataset-2."""

    first: list[LabelRow]
    second: list[LabelRow]
    reviewed: list[str]
    author: str


def demo_labels(external_ids: Sequence[str], oracle: Mapping[str, str], seed: int = DEMO_SEED,
                author: str = "demo") -> DemoLabels:
    """The demo's labeling rounds over ``external_ids`` (the imported reviews, store order), with
    the labels from ``oracle``; the same ids and seed give the same rounds."""
    ids = list(external_ids)
    rng = random.Random(seed * 1_000_003 + 11)
    first_n = min(240, len(ids))
    second_n = min(60, len(ids) - first_n)
    picked = rng.sample(ids, first_n + second_n)
    first, more = picked[:first_n], picked[first_n:]
    trained = [ext for ext in first if oracle[ext] in TRAINING]
    relabel = trained[:6]
    reviewed = trained[6:16]
    second = []
    for ext in relabel:
        choices = [c for c in TRAINING if c != oracle[ext]]
        second.append(LabelRow(ext, rng.choice(choices), author, "human"))
    second += [LabelRow(ext, oracle[ext], author, "import") for ext in more]
    return DemoLabels([LabelRow(ext, oracle[ext], author, "import") for ext in first], second, reviewed, author)

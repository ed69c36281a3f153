"""Hand-written templates and slot fillers for scripts/make_example_dataset.py (our own text).

Slots: {plant} {a_plant} ("a pothos", "an aloe vera") {plant2} {order} (an order reference, with or without an FW-number) {oid} (the bare
FW-number; forces one) {date} (order date) {eta} {days} {city} {device} {amount} {amount2} {weekday} {gc}
{name} {email} {phone} {card}. Every sub-type has one summary sentence: {plant_} is "<plant> " when
the message names exactly one plant (else empty) and {plant_or} is the plant or the word "plant".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Subtype:
    name: str
    category: str
    urgency: str
    summary: str
    templates: tuple[str, ...]
    escalates: bool = True  # explicit anger or a deadline raises the urgency to "high"
    id_rate: float = 0.0  # chance that an {order} slot carries an FW-number


SUBTYPES: tuple[Subtype, ...] = (
    # -- shipping_delay (over-represented on purpose) --
    Subtype(
        "not_arrived",
        "shipping_delay",
        "normal",
        "Customer's {plant_}order has not arrived yet.",
        (
            "I ordered {a_plant} on {date} and it still hasn't arrived. Can you check {order}?",
            "Where is {order}? I placed it on {date} and nothing has come.",
            "Still waiting on my {plant}. It has been {days} since I ordered.",
            "{order} hasn't shown up yet and the {plant} was ordered on {date}.",
            "My {plant} never arrived. Delivery was estimated for {eta}.",
            "Can someone tell me what happened to {order}? It's been {days} already.",
            "Nothing has arrived for {order} yet. I ordered on {date}, is it lost?",
            "It's been {days} and I still don't have my {plant}. What's going on with {order}?",
            "Just checking on {order}. The website said it would be here by {eta} but it isn't.",
            "I ordered two plants on {date}, the {plant} and the {plant2}, and neither has arrived.",
            "Any news on {order}? I expected it around {eta} and I'm still waiting.",
            "I've been waiting {days} for {a_plant}. Could you find out where {order} is?",
            "Hello? My package from {date} is nowhere to be seen. It's {order}.",
            "The {plant} I bought on {date} has not been delivered. Is there a delay?",
            "Is there a problem with {order}? It should have arrived on {eta}.",
        ),
        id_rate=0.75,
    ),
    Subtype(
        "tracking_stuck",
        "shipping_delay",
        "normal",
        "Tracking for customer's {plant_}order has not updated.",
        (
            "The tracking for {order} hasn't updated in {days}. Is it stuck somewhere?",
            "Tracking has said 'label created' since {date} for my {plant}. Has it actually shipped?",
            "My tracking link shows the same status for {days} now. Can you look into {order}?",
            "The carrier page for {order} hasn't moved since {date}. Is the package still coming?",
            "Is my {plant} actually on its way? Tracking hasn't changed in {days}.",
            "Tracking for {order} just says 'in transit' and nothing new since {date}.",
            "No tracking updates at all for {order} since {date}. Should I be worried?",
            "The courier site has shown my {plant} at the same depot for {days}.",
            "Why is the tracking for my {plant} frozen? Last scan was on {date}.",
            "Could you check {order}? The tracking number doesn't show any movement.",
        ),
        id_rate=0.75,
    ),
    Subtype(
        "delivered_missing",
        "shipping_delay",
        "normal",
        "Customer's {plant_}order is marked delivered but was not received.",
        (
            "Tracking says {order} was delivered on {eta} but there is nothing at my door.",
            "I got a 'delivered' email for my {plant} yesterday, but no package anywhere.",
            "The status for {order} says delivered, but I never got it.",
            "My {plant} shows as delivered on {eta}. It isn't here, not in the mailroom either.",
            "Carrier claims {order} was left at the front door. It wasn't.",
            "Apparently my {plant} was delivered, but I've checked with the neighbours and found nothing.",
            "{order} is marked as delivered and I have no box. Can you help?",
            "The app says my parcel arrived on {eta}, yet I was home all day and nobody came.",
        ),
        id_rate=0.75,
    ),
    Subtype(
        "ship_question",
        "shipping_delay",
        "low",
        "Customer asks how long shipping to {city} takes.",
        (
            "How long does shipping to {city} usually take?",
            "If I order {a_plant} today, when would it get to {city}?",
            "Do you ship to {city}, and how many days does delivery take?",
            "What's the normal delivery time for {city}? Thinking about ordering {a_plant}.",
            "Roughly how many days would standard shipping to {city} be?",
            "Quick question: how fast can you get {a_plant} to {city}?",
            "I'm in {city}. What delivery times should I expect?",
            "Would {a_plant} ordered this week reach {city} within five days?",
        ),
        escalates=False,
    ),
    # -- damaged_plant (always high) --
    Subtype(
        "arrived_damaged",
        "damaged_plant",
        "high",
        "Customer's {plant_or} arrived damaged in shipping.",
        (
            "My {plant} arrived today and the pot was smashed, soil everywhere.",
            "The {plant} from {order} came with broken stems and half the leaves snapped off.",
            "The box was crushed and the {plant} inside is bent in half.",
            "Just unpacked {order}. The {plant} has a snapped main stem and the pot is cracked.",
            "Received my {plant} but it looks like the box was dropped, leaves torn and soil all over.",
            "Your courier must have thrown the box. The {plant} is broken in two places.",
            "The pot of my {plant} shattered in transit and several stems are crushed.",
            "{order} arrived in a soaked, torn box and the plant inside is badly damaged.",
        ),
        escalates=False,
        id_rate=0.6,
    ),
    Subtype(
        "arrived_dead",
        "damaged_plant",
        "high",
        "Customer's {plant_or} arrived dead or dying.",
        (
            "The {plant} I got was completely dead on arrival, brown and mushy.",
            "Opened {order} and the {plant} is wilted and rotting at the base.",
            "My {plant} came totally dried out, every leaf is crispy.",
            "The {plant} in {order} arrived black and limp. I don't think it can be saved.",
            "Received a dead {plant} today. The roots are soggy and smell bad.",
            "The {plant} was frozen in the box, leaves gone see-through and mushy.",
        ),
        escalates=False,
        id_rate=0.6,
    ),
    Subtype(
        "pests",
        "damaged_plant",
        "high",
        "Customer's {plant_or} arrived with pests.",
        (
            "There are little bugs crawling all over the {plant} I just received.",
            "My new {plant} from {order} has white fluffy spots under the leaves, looks like mealybugs.",
            "Tiny flies came out of the soil of the {plant} as soon as I opened the box.",
            "The {plant} arrived covered in webbing, I think it has spider mites.",
            "Found scale insects on the stems of the {plant} that came today.",
        ),
        escalates=False,
        id_rate=0.6,
    ),
    # -- order_change --
    Subtype(
        "change_address",
        "order_change",
        "normal",
        "Customer wants to change the delivery address.",
        (
            "Can I change the delivery address on {order}? I'm moving to {city} next week.",
            "I typed the wrong street number on {order}. Could you update the address before it ships?",
            "Please send {order} to my office in {city} instead of my home address.",
            "Is it too late to update the shipping address for {order}?",
            "I need to change where {order} goes, I won't be home that week.",
            "Could you redirect {order} to my sister's place in {city}?",
        ),
        id_rate=0.7,
    ),
    Subtype(
        "add_item",
        "order_change",
        "normal",
        "Customer wants to add {a_plant} to an existing order.",
        (
            "Could you add {a_plant} to {order} so it all ships together?",
            "I forgot to add {a_plant} to {order}. Can you still put it in?",
            "Is it possible to add one more item, {a_plant}, to {order}?",
            "Just placed {order} and realised I also wanted {a_plant}. Can you add it?",
            "Can {a_plant} still be added to {order} before it leaves the warehouse?",
        ),
        id_rate=0.7,
    ),
    Subtype(
        "cancel_order",
        "order_change",
        "normal",
        "Customer wants to cancel their {plant_}order before it ships.",
        (
            "Please cancel {order}, I ordered the {plant} by mistake.",
            "I'd like to cancel {order} if it hasn't shipped yet.",
            "Can you stop {order}? I changed my mind about the {plant}.",
            "Please cancel {order}, I found the same {plant} at a local nursery.",
            "I want to cancel {order} before it goes out. Is that still possible?",
        ),
        id_rate=0.7,
    ),
    Subtype(
        "swap_size",
        "order_change",
        "normal",
        "Customer wants a different size of {plant_or}.",
        (
            "Can I switch the {plant} in {order} to the large size instead of medium?",
            "I ordered the small {plant} but want the bigger pot. Could you swap it on {order}?",
            "Is it possible to change the {plant} in {order} to the 6-inch pot?",
            "Could you upgrade my {plant} to the next size up before {order} ships?",
        ),
        id_rate=0.7,
    ),
    # -- refund_request --
    Subtype(
        "want_refund",
        "refund_request",
        "normal",
        "Customer wants a refund for their {plant_}order.",
        (
            "I'd like a refund for {order}, the {plant} isn't what I expected.",
            "Can I return the {plant} and get my money back?",
            "How do I get a refund for {order}? I don't want the {plant} anymore.",
            "I want to send the {plant} back for a full refund.",
            "Please refund {order}. The {plant} is much smaller than in the photos.",
            "The {plant} doesn't suit my space, so I'd like to return it for a refund.",
        ),
        id_rate=0.7,
    ),
    Subtype(
        "charged_twice",
        "refund_request",
        "high",
        "Customer was charged twice for one order.",
        (
            "I was charged twice for {order}, {amount} both times. Please refund one.",
            "My bank shows two charges of {amount} for {order}. I only ordered once.",
            "There's a duplicate payment of {amount} on my card for {order}.",
            "You took {amount} from my account twice for the same {plant}.",
            "Two identical payments of {amount} went out for {order}, please reverse one.",
        ),
        escalates=False,
        id_rate=0.7,
    ),
    Subtype(
        "wrong_amount",
        "refund_request",
        "high",
        "Customer was charged the wrong amount.",
        (
            "I was charged {amount} but the checkout total for {order} was {amount2}.",
            "The price of the {plant} was {amount2} on the site, but my card was charged {amount}.",
            "Why was I billed {amount} for {order}? The discount code should have brought it to {amount2}.",
            "My statement shows {amount} for {order}, which is more than I agreed to pay.",
        ),
        escalates=False,
        id_rate=0.7,
    ),
    Subtype(
        "refund_missing",
        "refund_request",
        "normal",
        "Customer's refund has not arrived yet.",
        (
            "I returned the {plant} from {order} on {date} and still haven't seen the refund.",
            "You confirmed my refund on {date} but nothing has reached my account.",
            "Still waiting for the refund on {order}. It's been {days}.",
            "When will the refund for my returned {plant} show up? It's been {days}.",
            "The refund you promised for {order} is missing from my bank account.",
        ),
        id_rate=0.7,
    ),
    # -- plant_care (general questions: low) --
    Subtype(
        "watering",
        "plant_care",
        "low",
        "Customer asks how often to water {a_plant}.",
        (
            "How often should I water my {plant}?",
            "What's the right watering schedule for {a_plant} in winter?",
            "Should I let the soil dry out completely between waterings for my {plant}?",
            "I'm never sure when to water my {plant}. Is once a week fine?",
            "Does {a_plant} like misting, or only watering at the roots?",
            "How much water does {a_plant} in a 6-inch pot need?",
        ),
        escalates=False,
    ),
    Subtype(
        "yellow_leaves",
        "plant_care",
        "low",
        "Customer asks why their {plant} has yellow leaves.",
        (
            "The leaves on my {plant} are turning yellow. What am I doing wrong?",
            "I've had my {plant} for a month and the lower leaves are going yellow. Is that normal?",
            "Why are the leaves of my {plant} yellowing at the edges?",
            "A few yellow leaves showed up on my {plant} this week, should I worry?",
            "My {plant} keeps dropping yellow leaves since I moved it.",
        ),
        escalates=False,
    ),
    Subtype(
        "light",
        "plant_care",
        "low",
        "Customer asks how much light {a_plant} needs.",
        (
            "How much light does {a_plant} need?",
            "Can {a_plant} live in a room with only a north-facing window?",
            "Is direct sun okay for my {plant} or will it burn?",
            "Where should I put my {plant}? It's quite dark in my flat.",
            "Would a grow light help my {plant} through the winter?",
        ),
        escalates=False,
    ),
    Subtype(
        "repotting",
        "plant_care",
        "low",
        "Customer asks about repotting {a_plant}.",
        (
            "When should I repot my {plant}?",
            "Roots are coming out of the bottom of my {plant}'s pot. Time to repot?",
            "What soil mix do you recommend when repotting {a_plant}?",
            "How big a pot should I move my {plant} into?",
            "Is spring the best time to repot {a_plant}?",
        ),
        escalates=False,
    ),
    Subtype(
        "pet_safe",
        "plant_care",
        "low",
        "Customer asks whether {a_plant} is safe for pets.",
        (
            "Is the {plant} safe to have around cats?",
            "My dog chews everything. Is {a_plant} toxic to dogs?",
            "Before I buy {a_plant}, is it pet friendly?",
            "Would {a_plant} be a problem with a curious kitten at home?",
        ),
        escalates=False,
    ),
    # -- account_access --
    Subtype(
        "cant_login",
        "account_access",
        "normal",
        "Customer cannot log in to their account.",
        (
            "I can't log in to my account, it keeps saying my password is wrong.",
            "Your site won't let me sign in. I've tried three times.",
            "The login page just reloads when I enter my details.",
            "My account seems locked after too many attempts, can you unlock it?",
            "Every time I try to sign in I get an error message.",
            "I can't sign in on my {device}, it just shows a spinning wheel.",
            "Since yesterday my {device} logs me out straight away and won't let me back in.",
            "The Fernway app on my {device} says my account doesn't exist.",
            "I'm stuck on the login screen and can't see my orders.",
        ),
    ),
    Subtype(
        "reset_missing",
        "account_access",
        "normal",
        "Customer did not receive the password reset email.",
        (
            "I requested a password reset twice but the email never came.",
            "The reset link email isn't arriving, not even in spam.",
            "Forgot my password and the reset email never shows up.",
            "Clicked 'forgot password' an hour ago and still no email.",
            "I asked for a reset link on my {device} but no email ever came.",
            "Password reset emails aren't reaching me, I've checked on my {device} too.",
        ),
    ),
    Subtype(
        "change_email",
        "account_access",
        "normal",
        "Customer wants to change the email on their account.",
        (
            "How do I change the email address on my account?",
            "I need to update my login email, I no longer use the old one.",
            "Please switch my account to a new email address.",
            "Can the email on my Fernway profile be changed?",
            "I'd like my account to use my work email instead of my personal one.",
            "Can you move my account over to a different email? I'm on my {device} right now.",
        ),
    ),
    Subtype(
        "delete_account",
        "account_access",
        "normal",
        "Customer wants their account deleted.",
        (
            "Please delete my Fernway account and my data.",
            "I'd like to close my account permanently.",
            "How can I remove my account? I don't shop with you anymore.",
            "Could you erase my profile and order history?",
            "Please remove all my personal data from your systems.",
            "I want my account closed, and I can't find the option on my {device}.",
        ),
    ),
    # -- gift_card (thin) --
    Subtype(
        "gc_balance",
        "gift_card",
        "low",
        "Customer asks how to check a gift card balance.",
        (
            "How can I check how much is left on my gift card?",
            "Is there a way to see my gift card balance online?",
        ),
        escalates=False,
    ),
    Subtype(
        "gc_rejected",
        "gift_card",
        "normal",
        "Customer's gift card code is rejected at checkout.",
        (
            "My gift card code {gc} says invalid at checkout.",
            "The gift card I got for my birthday ({gc}) won't apply to my basket.",
            "Checkout keeps rejecting gift card {gc}.",
        ),
        escalates=False,
    ),
    Subtype(
        "gc_send",
        "gift_card",
        "low",
        "Customer asks how to send a gift card.",
        (
            "Can I send a digital gift card to a friend in {city}?",
            "Do you sell gift cards I can email to someone?",
        ),
        escalates=False,
    ),
    # -- subscription (thin) --
    Subtype(
        "sub_skip",
        "subscription",
        "normal",
        "Customer wants to skip next month's plant box.",
        (
            "Can I skip next month's plant box? I'll be travelling.",
            "Please pause my subscription for one month.",
            "Skip my plant box this month please, I still have last month's plants to pot.",
        ),
        escalates=False,
    ),
    Subtype(
        "sub_cancel",
        "subscription",
        "normal",
        "Customer wants to cancel their plant subscription.",
        (
            "I want to cancel my monthly plant subscription.",
            "How do I stop the subscription box? Too many plants already!",
            "Please end my plant box subscription after this month.",
        ),
        escalates=False,
    ),
    Subtype(
        "sub_charged",
        "subscription",
        "high",
        "Customer was charged after cancelling their subscription.",
        (
            "I cancelled my subscription on {date} but was charged {amount} again.",
            "Why did you bill me {amount} for the plant box when I cancelled last month?",
            "My subscription was cancelled, yet I was billed {amount} for a box with {a_plant} in it.",
        ),
        escalates=False,
    ),
    # -- wholesale (thin) --
    Subtype(
        "bulk_order",
        "wholesale",
        "low",
        "Customer asks about a bulk order of {plant_or}.",
        (
            "Do you offer discounts if I order 50 of the {plant} for an office?",
            "We're a cafe in {city} looking to buy around 30 of the {plant} at once. Any bulk pricing?",
            "What would 100 units of the {plant} cost at wholesale rates?",
        ),
        escalates=False,
    ),
    Subtype(
        "trade_account",
        "wholesale",
        "low",
        "Customer asks about opening a wholesale account.",
        (
            "I run a florist in {city}. How do I open a wholesale account?",
            "Do you have trade pricing for interior designers?",
            "We'd like to stock your plants in our shop. Who do I talk to?",
        ),
        escalates=False,
    ),
    # -- other --
    Subtype(
        "hiring",
        "other",
        "low",
        "Customer asks whether Fernway is hiring.",
        (
            "Are you hiring at your greenhouse near {city}?",
            "Do you have any job openings? I love plants.",
            "Is there a careers page? I'd like to apply.",
            "Any seasonal jobs at Fernway this spring?",
        ),
        escalates=False,
    ),
    Subtype(
        "store",
        "other",
        "low",
        "Customer asks whether Fernway has a physical shop.",
        (
            "Do you have a physical store I can visit?",
            "Is there a shop in {city} where I can see the plants in person?",
            "Do you have a showroom or is it online only?",
            "Can I visit your nursery near {city} to pick plants myself?",
        ),
        escalates=False,
    ),
    Subtype(
        "packaging",
        "other",
        "low",
        "Customer asks whether the packaging is recyclable.",
        (
            "Is your packaging recyclable or compostable?",
            "What should I do with the paper fill that came in the box, can it be recycled?",
            "Do you use plastic in your shipping boxes?",
            "Are the pots you ship in made from recycled material?",
        ),
        escalates=False,
    ),
    Subtype(
        "compliment",
        "other",
        "low",
        "Customer sends a compliment about their {plant_or}.",
        (
            "Just wanted to say my {plant} arrived in perfect shape. Love it!",
            "The {plant} I bought last month is thriving, thank you!",
            "Great service, the {plant} looks even better than the photos.",
            "My {plant} has a new leaf already. You pack them so well!",
        ),
        escalates=False,
    ),
    Subtype(
        "unsubscribe",
        "other",
        "low",
        "Customer wants to stop marketing emails.",
        (
            "Please take me off your marketing email list.",
            "How do I stop getting the newsletter?",
            "I get too many promo emails from you, please unsubscribe me.",
            "Can you stop sending me sale announcements?",
        ),
        escalates=False,
    ),
)

DETAILS: dict[str, tuple[str, ...]] = {  # by sub-type name first, else by category
    "ship_question": ("Just planning ahead.", "It would be my first order.", "Thanks!"),
    "shipping_delay": (
        "I live in {city}.",
        "I paid for standard shipping.",
        "The confirmation said 3 to 5 business days.",
        "I haven't had any update since the order confirmation.",
        "I'm usually home during the day.",
        "It's my first order with you.",
    ),
    "damaged_plant": (
        "I have photos if you need them.",
        "The box looked fine from the outside.",
        "It was packed with only a little paper.",
        "I can send pictures.",
    ),
    "order_change": (
        "Sorry for the trouble.",
        "Nothing else on the order needs to change.",
        "Happy to pay any difference.",
    ),
    "refund_request": ("I paid by credit card.", "I paid with PayPal.", "It's still in the original box."),
    "plant_care": (
        "It sits near a north-facing window.",
        "I'm a complete beginner.",
        "It's about two months old.",
        "I bought it from you in the autumn.",
        "Thanks for any tips.",
    ),
    "account_access": (
        "I'm using Chrome on a laptop.",
        "I've tried on my phone too.",
        "I have been a customer for years.",
    ),
    "gift_card": ("Thanks!",),
    "subscription": ("Thanks.",),
    "wholesale": ("We're opening in the spring.",),
    "other": ("Thanks in advance.", "Just curious.", "No rush at all."),
}

ANGER = (
    "This is really frustrating.",
    "I'm honestly furious at this point.",
    "This is the third time I've had to write to you!",
    "Absolutely unacceptable.",
    "I'm very angry about this.",
)
DEADLINES = (
    "I need it before {weekday}, it's a gift.",
    "Please sort this out by tomorrow.",
    "It has to be fixed before {weekday}, we have guests coming.",
    "I need an answer today.",
)
GREETINGS = ("Hi,", "Hello,", "Hi Fernway team,", "Hey there,", "Good morning,", "Dear Fernway,", "Hi there,")
SIGNOFFS = ("Thanks, {name}", "Best, {name}", "Cheers, {name}", "Thank you!", "Regards, {name}", "- {name}")

PLANTS = (
    "monstera", "snake plant", "fiddle leaf fig", "pothos", "ZZ plant", "calathea", "string of pearls",
    "bird of paradise", "peace lily", "rubber plant", "hoya", "philodendron", "alocasia", "Chinese money plant",
    "parlor palm", "olive tree", "spider plant", "aloe vera", "maidenhair fern", "Boston fern", "pilea",
    "jade plant",
)  # fmt: skip
CITIES = (
    "Portland", "Denver", "Austin", "Chicago", "Seattle", "Boston", "Atlanta", "Phoenix", "Minneapolis",
    "Pittsburgh", "Sacramento", "Tucson", "Raleigh", "Madison", "Richmond",
)  # fmt: skip
NAMES = (
    "Priya", "Tom", "Aisha", "Marco", "Lena", "Jonah", "Sofia", "Dev", "Hannah", "Kofi", "Mei", "Rosa",
    "Ethan", "Nadia", "Oliver", "Yuki", "Grace", "Sam", "Ines", "Ben",
)  # fmt: skip
AMOUNTS = ("$24.99", "$38.50", "$61.00", "$45.20", "$19.95", "$72.40", "$33.00", "$89.90", "$54.75", "$27.30")
DEVICES = ("phone", "laptop", "iPad", "work computer", "Android phone", "tablet")
WEEKDAYS = ("Friday", "Saturday", "Sunday", "Monday", "Wednesday")
GIFT_CODES = ("GC-7Q4M-2KD9", "GC-H3W8-PL5X", "GC-9RT2-VN6B", "GC-K5J1-ZD3S")

# Word swaps for near-duplicates: one word (or short phrase) replaced, meaning unchanged.
SWAPS = (
    ("still", "yet"), ("Can", "Could"), ("Could", "Can"), ("hasn't", "has not"), ("I'd", "I would"),
    ("really", "very"), ("package", "parcel"), ("box", "package"), ("nothing", "nothing at all"),
    ("Please", "Kindly"), ("broken", "busted"), ("smashed", "shattered"), ("today", "this morning"),
    ("It's", "It has"), ("can't", "cannot"), ("arrived", "turned up"), ("ordered", "bought"),
)  # fmt: skip

# Paraphrase groups: (sub-type, templates that mean the same and share slots but few words).
PARAPHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("not_arrived", (
        "I ordered {a_plant} on {date} ({oid}) and it still hasn't arrived.",
        "Nothing has turned up yet for {oid}. That's the {plant} I bought on {date}.",
        "{date} was when I paid for {a_plant}, order {oid}, and my parcel is nowhere to be seen.",
    )),
    ("arrived_damaged", (
        "My {plant} showed up with a cracked pot and broken stems. Order {oid}.",
        "Order {oid} came today; the {plant} inside was snapped and its container smashed.",
    )),
    ("watering", (
        "How often should I be watering my {plant}?",
        "What's a good routine for giving {a_plant} a drink?",
        "My {plant}: how many times per week does it need water?",
    )),
    ("change_address", (
        "Could you update the delivery address on {oid}? I've moved.",
        "I have a new home, so please ship {oid} there rather than the old place.",
    )),
    ("charged_twice", (
        "I see two charges of {amount} for {oid} on my statement.",
        "My card was billed {amount} twice for order {oid}.",
    )),
    ("cant_login", (
        "I can't get into my account, the password keeps failing.",
        "Signing in doesn't work for me; it says my credentials are incorrect.",
    )),
    ("packaging", (
        "Is your packaging recyclable?",
        "Can the boxes and filler you ship in go in my recycling bin?",
    )),
)  # fmt: skip

# Conflicts: (sub-type of the correct output, template, fields of the conflicting output, typo in copy).
CONFLICTS: tuple[tuple[str, str, dict[str, str], bool], ...] = (
    ("want_refund", "My {plant} from {order} never arrived, so I just want my money back.",
     {"category": "shipping_delay", "urgency": "normal"}, False),
    ("arrived_dead", "My {plant} arrived yesterday with yellow, drooping leaves and soggy soil.",
     {"category": "plant_care", "urgency": "low"}, False),
    ("cancel_order", "Please cancel {order} before it ships and refund my card.",
     {"category": "refund_request", "urgency": "normal"}, True),
    ("watering", "How often should I water {a_plant} that sits in a bright bathroom?",
     {"urgency": "high"}, False),
    ("ship_question", "How long would delivery to {city} take if I order {a_plant} tomorrow?",
     {"urgency": "normal"}, True),
    ("tracking_stuck", "Tracking for {order} hasn't changed in {days} and nobody answers my emails.",
     {"category": "other", "urgency": "low"}, False),
)  # fmt: skip

# PII: (sub-type, extra sentence that carries an email address, a phone number or a card-like number).
PII_LINES: tuple[tuple[str, str], ...] = (
    ("cant_login", "My login email is {email}."),
    ("reset_missing", "Please send it to {email} instead."),
    ("not_arrived", "You can call me on {phone}."),
    ("charged_twice", "The card was {card}."),
    ("change_address", "Text me at {phone} if anything is unclear."),
    ("want_refund", "Refund it to my card {card} please."),
    ("arrived_damaged", "Email me at {email} and I'll send photos."),
)

# Plain-prose replies used as wrong-format outputs (a support answer instead of the triage JSON).
PROSE_REPLIES: dict[str, tuple[str, ...]] = {
    "shipping_delay": (
        "So sorry your order is late! I've asked the warehouse to check and will update you soon.",
    ),
    "damaged_plant": ("Oh no, sorry about your plant. Please send us a photo and we'll ship a replacement.",),
    "refund_request": ("Thanks for reaching out. Your refund request has been passed to our billing team.",),
    "order_change": ("Sure, I can help with that change. Could you confirm the order number?",),
    "plant_care": ("Water it when the top inch of soil is dry and keep it in bright, indirect light.",),
}

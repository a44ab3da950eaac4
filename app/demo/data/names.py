"""Name material for the synthetic town: common forenames, their nicknames, and surnames.

These are lists of common names, not records of people. The tail of rarer surnames is made up
from syllables by the generator so that a large town is not a town of a few hundred families.
"""

MALE = (
    "Oliver George Harry Jack Jacob Noah Charlie Muhammad Thomas Oscar William James Henry Leo "
    "Alfie Joshua Freddie Archie Ethan Isaac Alexander Joseph Edward Samuel Max Daniel Arthur "
    "Lucas Mohammed Logan Theo Harrison Benjamin Mason Sebastian Finley Adam Dylan Zachary "
    "Riley Teddy Theodore David Elijah Jake Toby Louie Reuben Arlo Hugo Jaxon Luca Matthew "
    "Harvey Reggie Michael Tommy Jenson Frankie Albert Stanley Elliot Ronnie Liam Robert "
    "Christopher Andrew Richard Mark Paul Steven Peter Anthony Kevin Gary Stephen Ian Simon "
    "Craig Lee Darren Wayne Dean Carl Nathan Ryan Jordan Kieran Callum Connor Aaron Jamie Lewis "
    "Bradley Ashley John Kenneth Brian Keith Derek Malcolm Trevor Graham Raymond Frederick "
    "Ernest Harold Walter Leonard Dennis Roy Colin Ronald"
).split()

FEMALE = (
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Willow Freya Florence "
    "Emily Ella Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sophie Alice Harper "
    "Matilda Ruby Emilia Maya Millie Isabelle Eva Luna Jessica Elizabeth Aria Maisie Arabella "
    "Esme Imogen Hallie Eliza Penelope Violet Chloe Scarlett Layla Lucy Hannah Zara Erin Holly "
    "Megan Lauren Rebecca Amy Laura Sarah Emma Gemma Kelly Nicola Michelle Lisa Claire Joanne "
    "Rachel Victoria Katherine Jennifer Samantha Hayley Stacey Natalie Danielle Jade Leanne "
    "Kirsty Susan Karen Julie Tracey Deborah Angela Helen Patricia Margaret Jean Barbara "
    "Dorothy Joan Sheila Valerie Pauline Christine Maureen Janet Irene Doreen Brenda Kathleen "
    "Wendy Diane Carol Linda Ann"
).split()

NICKNAMES = {
    "William": ["Bill", "Will", "Billy"],
    "Robert": ["Bob", "Rob", "Bobby"],
    "Richard": ["Rick", "Dick", "Rich"],
    "James": ["Jim", "Jimmy", "Jamie"],
    "Thomas": ["Tom", "Tommy"],
    "Joseph": ["Joe", "Joey"],
    "Michael": ["Mike", "Mick"],
    "Christopher": ["Chris", "Kit"],
    "Daniel": ["Dan", "Danny"],
    "Matthew": ["Matt"],
    "Anthony": ["Tony", "Ant"],
    "Andrew": ["Andy", "Drew"],
    "Alexander": ["Alex", "Sandy"],
    "Benjamin": ["Ben", "Benny"],
    "Samuel": ["Sam", "Sammy"],
    "Edward": ["Ed", "Eddie", "Ted"],
    "Frederick": ["Fred", "Freddie"],
    "Henry": ["Harry", "Hal"],
    "Jacob": ["Jake"],
    "Nathan": ["Nate"],
    "Zachary": ["Zach"],
    "Stephen": ["Steve"],
    "Steven": ["Steve"],
    "Kenneth": ["Ken", "Kenny"],
    "Raymond": ["Ray"],
    "Leonard": ["Len", "Lenny"],
    "Harold": ["Harry"],
    "Walter": ["Wally"],
    "Theodore": ["Theo", "Ted"],
    "Albert": ["Bert", "Al"],
    "Ronald": ["Ron", "Ronnie"],
    "Stanley": ["Stan"],
    "Peter": ["Pete"],
    "Dennis": ["Den"],
    "Elizabeth": ["Liz", "Beth", "Lizzie", "Betty"],
    "Margaret": ["Maggie", "Peggy", "Meg"],
    "Katherine": ["Kate", "Kathy", "Katie"],
    "Kathleen": ["Kath", "Kathy"],
    "Jennifer": ["Jenny", "Jen"],
    "Rebecca": ["Becky", "Becca"],
    "Victoria": ["Vicky", "Tori"],
    "Samantha": ["Sam", "Sammie"],
    "Patricia": ["Pat", "Trish"],
    "Deborah": ["Debbie", "Deb"],
    "Susan": ["Sue", "Susie"],
    "Christine": ["Chris", "Chrissie"],
    "Barbara": ["Barb", "Babs"],
    "Dorothy": ["Dot", "Dottie"],
    "Jessica": ["Jess"],
    "Charlotte": ["Charlie", "Lottie"],
    "Isabella": ["Bella", "Izzy"],
    "Isabelle": ["Izzy", "Belle"],
    "Florence": ["Flo", "Florrie"],
    "Matilda": ["Tilly"],
    "Penelope": ["Penny"],
    "Amelia": ["Millie"],
    "Natalie": ["Nat"],
    "Danielle": ["Dani"],
    "Nicola": ["Nicky"],
    "Michelle": ["Shelly"],
    "Joanne": ["Jo"],
    "Valerie": ["Val"],
    "Pauline": ["Paula"],
    "Eliza": ["Liza"],
    "Evelyn": ["Evie"],
}

SURNAMES = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan "
    "Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell "
    "Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan "
    "Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb "
    "Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes "
    "Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham "
    "Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders "
    "Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer Gill Dawson "
    "Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes "
    "Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods "
    "Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed "
    "Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop "
    "Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne "
    "Sutton McDonald Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss "
    "McCarthy Chambers Ahmed Nowak Kowalski Mensah Okafor Nguyen"
).split()

# Syllables for the long tail of rarer surnames (made-up, deterministic for a seed).
SURNAME_STARTS = (
    "Ash Black Brad Brook Cald Carn Chad Clay Cram Dal Dun Eld Fair Fern Gar Glen Hal Hart Hay "
    "Hol Kel Kin Lang Lin Mar Mil Mor Nor Oak Pen Ram Red Rich Rock Sal Shel Stan Stock Thorn "
    "Tor War Wes Whit Win Wy Ald Bram Crom Eas"
).split()
SURNAME_ENDS = (
    "ley ton well ford wick by ham worth field more stead shaw cott den bury dale hurst land "
    "wood brook ridge combe ings gate"
).split()

package dedupe

import "strings"

// spell maps a lowercase word to one spelling shared by British and
// American English, so that "defence programme" and "defense program"
// compare equal. The mapping only has to be a function applied to both
// texts alike: an over-eager rule that turns "rise" into "rize" everywhere
// is harmless, whereas one that merged two distinct words would not be,
// so the broad rules are suffix rewrites that create no such collisions
// and the rest is a table.
func spell(w string) string {
	if v, ok := lookup(spellings, w); ok {
		return v
	}
	if len(w) < 5 {
		return w
	}
	// -ise/-ize, -isation/-ization, -yse/-yze: organise, recognised,
	// privatisation, analyse. Words of four letters or fewer are skipped
	// ("rise" has no -ize twin).
	if i := strings.LastIndex(w, "is"); i >= 0 || strings.Contains(w, "ys") {
		if i < 0 {
			i = strings.LastIndex(w, "ys")
		}
		if zSuffix[w[i+1:]] {
			return w[:i+1] + "z" + w[i+2:]
		}
	}
	// -our/-or in the stems that have it: labour, favourite, honourable.
	if strings.Contains(w, "our") {
		for _, stem := range ourStems {
			if i := strings.Index(w, stem); i >= 0 {
				return w[:i] + stem[:len(stem)-2] + "r" + w[i+len(stem):]
			}
		}
	}
	// Doubled l before -ed/-ing/-er: travelled, cancelling, labelled.
	// Every stem ends in l, so the word ends in "ll" and the suffix.
	var rest string
	for _, ending := range []string{"lled", "lling", "ller", "llers"} {
		if strings.HasSuffix(w, ending) {
			rest = ending[2:]
			break
		}
	}
	if rest == "" {
		return w
	}
	for _, stem := range llStems {
		if len(w) == len(stem)+1+len(rest) && strings.HasPrefix(w, stem) {
			return stem + rest
		}
	}
	return w
}

// zSuffix are the endings, after the i or y, that British English spells
// with s and American with z: organise, recognised, privatisation, analyse.
var zSuffix = map[string]bool{"sation": true, "sations": true, "se": true, "sed": true, "ses": true,
	"sing": true, "ser": true, "sers": true}

// ourStems are the common words spelled -our in British English and -or
// in American; a stem matches inside derived words (favourite, labourers).
var ourStems = []string{
	"labour", "colour", "favour", "honour", "behaviour", "neighbour", "harbour", "humour",
	"rumour", "vigour", "endeavour", "armour", "odour", "flavour", "vapour", "tumour",
	"rigour", "candour", "fervour", "splendour", "saviour", "parlour", "valour", "clamour",
	"demeanour", "ardour", "savour",
}

// llStems are the verbs whose final l British English doubles before a
// suffix (travelled) and American does not (traveled).
var llStems = []string{
	"travel", "cancel", "label", "model", "fuel", "counsel", "signal", "total", "level",
	"channel", "marshal", "equal", "dial", "duel", "tunnel", "rival", "jewel", "quarrel",
	"pedal", "panel", "shovel", "snorkel", "marvel", "libel", "yodel", "grovel", "initial",
}

// spellings are whole-word pairs no suffix rule covers; the key is the
// British form.
var spellings = map[string]string{
	"defence": "defense", "defences": "defenses", "offence": "offense", "offences": "offenses",
	"licence": "license", "licences": "licenses", "pretence": "pretense",
	"programme": "program", "programmes": "programs",
	"centre": "center", "centres": "centers", "centred": "centered", "centring": "centering",
	"metre": "meter", "metres": "meters", "kilometre": "kilometer", "kilometres": "kilometers",
	"centimetre": "centimeter", "centimetres": "centimeters", "millimetre": "millimeter",
	"millimetres": "millimeters", "litre": "liter", "litres": "liters", "theatre": "theater",
	"theatres": "theaters", "fibre": "fiber", "fibres": "fibers", "calibre": "caliber",
	"spectre": "specter", "sombre": "somber", "lustre": "luster", "meagre": "meager",
	"manoeuvre": "maneuver", "manoeuvres": "maneuvers",
	"cheque": "check", "cheques": "checks", "tyre": "tire", "tyres": "tires",
	"grey": "gray", "aluminium": "aluminum", "ageing": "aging", "judgement": "judgment",
	"judgements": "judgments", "acknowledgement": "acknowledgment", "enrolment": "enrollment",
	"fulfil": "fulfill", "fulfilment": "fulfillment", "skilful": "skillful", "wilful": "willful",
	"instalment": "installment", "instalments": "installments", "practise": "practice",
	"practised": "practiced", "practising": "practicing", "storey": "story", "storeys": "stories",
	"plough": "plow", "sceptic": "skeptic", "sceptical": "skeptical", "scepticism": "skepticism",
	"paediatric": "pediatric", "anaemia": "anemia", "diarrhoea": "diarrhea",
	"oesophagus": "esophagus", "oestrogen": "estrogen", "foetus": "fetus",
	"haemorrhage": "hemorrhage", "encyclopaedia": "encyclopedia", "mould": "mold",
	"moult": "molt", "smoulder": "smolder", "catalogue": "catalog", "dialogue": "dialog",
	"analogue": "analog", "towards": "toward", "amongst": "among", "whilst": "while",
	"percent": "percent", "jewellery": "jewelry", "draught": "draft", "gaol": "jail",
	"kerb": "curb", "pyjamas": "pajamas", "sulphur": "sulfur", "modelling": "modeling",
	"travellers": "travelers", "worshipped": "worshiped", "kidnapped": "kidnaped",
	"focussed": "focused", "focussing": "focusing", "benefitted": "benefited",
}

package inject

// confusable folds letters that look like a Latin letter to that letter
// (lower case). It holds what NFKC leaves alone: the Cyrillic, Greek,
// Armenian and Cherokee look-alikes and the Latin small capitals and IPA
// letters that the Unicode confusables data (UTS #39) lists as
// confusable with an ASCII letter. Fullwidth forms, mathematical
// alphanumerics, circled and modifier letters are NFKC's job.
//
// Upper-case entries are folded by their own shape: Cyrillic "В" looks
// like "B", its lower case "в" looks like nothing in ASCII and is absent.
var confusable = map[rune]byte{
	// Cyrillic.
	'а': 'a', 'А': 'a', 'В': 'b', 'Ь': 'b', 'с': 'c', 'С': 'c', 'ԁ': 'd',
	'е': 'e', 'Е': 'e', 'Ѐ': 'e', 'һ': 'h', 'Һ': 'h', 'Н': 'h', 'і': 'i',
	'І': 'i', 'ј': 'j', 'Ј': 'j', 'К': 'k', 'ӏ': 'l', 'Ӏ': 'l',
	'М': 'm', 'о': 'o', 'О': 'o', 'р': 'p', 'Р': 'p', 'ԛ': 'q',
	'Ԛ': 'q', 'ѕ': 's', 'Ѕ': 's', 'Т': 't', 'у': 'y',
	'У': 'y', 'ү': 'y', 'Ү': 'y', 'х': 'x', 'Х': 'x', 'ԝ': 'w', 'Ԝ': 'w',
	'ɡ': 'g', 'ԍ': 'g', 'Ԍ': 'g', 'ӟ': 'z', 'Ꙇ': 'i',
	// Greek.
	'α': 'a', 'Α': 'a', 'Β': 'b', 'β': 'b', 'ϲ': 'c', 'Ϲ': 'c', 'Ε': 'e',
	'ε': 'e', 'Ζ': 'z', 'Η': 'h', 'ι': 'i', 'Ι': 'i', 'ϳ': 'j', 'Κ': 'k',
	'κ': 'k', 'Μ': 'm', 'Ν': 'n', 'ν': 'v', 'ο': 'o', 'Ο': 'o', 'ρ': 'p',
	'Ρ': 'p', 'τ': 't', 'Τ': 't', 'υ': 'u', 'Υ': 'y', 'γ': 'y', 'χ': 'x',
	'Χ': 'x', 'ω': 'w', 'ϵ': 'e',
	// Armenian.
	'օ': 'o', 'Օ': 'o', 'ս': 'u', 'Ս': 'u', 'հ': 'h', 'ո': 'n', 'ց': 'g',
	'զ': 'q', 'ա': 'w', 'Լ': 'l',
	// Cherokee capitals.
	'Ꭺ': 'a', 'Ᏼ': 'b', 'Ꮯ': 'c', 'Ꭰ': 'd', 'Ꭼ': 'e', 'Ꮐ': 'g', 'Ꮋ': 'h',
	'Ꭵ': 'i', 'Ꭻ': 'j', 'Ꮶ': 'k', 'Ꮮ': 'l', 'Ꮇ': 'm', 'Ꮲ': 'p', 'Ꮪ': 's',
	'Ꭲ': 't', 'Ꮩ': 'v', 'Ꮃ': 'w', 'Ꮓ': 'z',
	// Latin small capitals, IPA and dotless letters.
	'ı': 'i', 'ȷ': 'j', 'ɑ': 'a', 'ɩ': 'i', 'ɪ': 'i', 'ʏ': 'y', 'ᴀ': 'a',
	'ʙ': 'b', 'ᴄ': 'c', 'ᴅ': 'd', 'ᴇ': 'e', 'ɢ': 'g', 'ʜ': 'h', 'ᴊ': 'j',
	'ᴋ': 'k', 'ʟ': 'l', 'ᴍ': 'm', 'ɴ': 'n', 'ᴏ': 'o', 'ᴘ': 'p', 'ʀ': 'r',
	'ꜱ': 's', 'ᴛ': 't', 'ᴜ': 'u', 'ᴠ': 'v', 'ᴡ': 'w', 'ᴢ': 'z', 'ɾ': 'r',
	'ʋ': 'u', 'ɒ': 'a', 'ɔ': 'c', 'ɛ': 'e', 'ɜ': 'e',
}

// latinExtra spells Latin letters that have no decomposition (so NFKD
// leaves them whole) the way an English reader would type them.
var latinExtra = map[rune]string{
	'ø': "o", 'Ø': "o", 'ł': "l", 'Ł': "l", 'đ': "d", 'Đ': "d", 'ð': "d",
	'Ð': "d", 'ß': "ss", 'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe",
	'þ': "th", 'Þ': "th", 'ħ': "h", 'Ħ': "h", 'ŧ': "t", 'Ŧ': "t",
}

// quoteFold maps typographic quotes and dashes to their ASCII forms, so a
// quoted phrase reads the same however it was typed.
var quoteFold = map[rune]rune{
	'‘': '\'', '’': '\'', '‚': '\'', '‛': '\'', '′': '\'', '‹': '\'', '›': '\'',
	'“': '"', '”': '"', '„': '"', '‟': '"', '″': '"', '«': '"', '»': '"',
	'「': '"', '」': '"', '『': '"', '』': '"', '＂': '"', '＇': '\'',
	'‐': '-', '‑': '-', '‒': '-', '–': '-', '—': '-', '―': '-', '−': '-',
}

// hiddenKind classifies characters that render as nothing: 1 for
// zero-width and other invisible format characters, 2 for bidirectional
// controls, 3 for variation selectors (dropped without counting: emoji use
// them), 0 for everything else. Unicode tag characters are decoded, not
// dropped (see decomposeInto).
func hiddenKind(r rune) int {
	switch {
	case r == 0x200B, r == 0x200C, r == 0x200D, r == 0x2060, r == 0xFEFF, r == 0x00AD,
		r == 0x180E, r == 0x034F, r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0,
		r == 0x17B4, r == 0x17B5, r >= 0x2061 && r <= 0x2064:
		return 1
	case r == 0x200E, r == 0x200F, r == 0x061C, r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return 2
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF:
		return 3
	}
	return 0
}

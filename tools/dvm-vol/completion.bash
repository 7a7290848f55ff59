# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion of dvm-vol: verbs, their options, pool names and VM names (asked from
# dvm-vol itself, with the --state-dir and --pool already on the line).

_dvm_vol_words() {
	local i
	_dvm_vol_global=()
	_dvm_vol_verb=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--lock-timeout) ((i++)) ;;
		--state-dir | --pool) _dvm_vol_global+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}"); ((i++)) ;;
		-*) [ ${#_dvm_vol_verb[@]} = 0 ] || _dvm_vol_verb+=("${COMP_WORDS[i]}") ;;
		*) _dvm_vol_verb+=("${COMP_WORDS[i]}") ;;
		esac
	done
}

# _dvm_vol_reply WORDS: the words that start with the current one
_dvm_vol_reply() {
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "${COMP_WORDS[COMP_CWORD]}")
}

_dvm_vol() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} verb opts=
	local -a _dvm_vol_global _dvm_vol_verb
	_dvm_vol_words
	case $prev in
	--state-dir | --root | --private | --data | --metadata)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	--pool)
		_dvm_vol_reply "$(dvm-vol "${_dvm_vol_global[@]}" pool list 2>/dev/null)"
		return ;;
	--skip-zeroing)
		_dvm_vol_reply "yes no"
		return ;;
	--template)
		_dvm_vol_reply "$(dvm-vol "${_dvm_vol_global[@]}" list 2>/dev/null |
			awk 'NR > 1 && $2 == "template" { print $1 }')"
		return ;;
	esac
	verb=${_dvm_vol_verb[0]:-}
	case $verb in
	'')
		_dvm_vol_reply "--state-dir --pool --lock-timeout --json --verbose --help pool template dvm spawn
			start stop destroy list info recover worker reap volume"
		return ;;
	pool | template | dvm | volume)
		if [ ${#_dvm_vol_verb[@]} = 1 ]; then
			case $verb in
			pool) opts="init list info activate set" ;;
			volume) opts="revisions revert resize" ;;
			template) opts="create import" ;;
			dvm) opts="create" ;;
			esac
			_dvm_vol_reply "$opts"
			return
		fi
		case $verb/${_dvm_vol_verb[1]} in
		pool/init) opts="--data --metadata --data-size --block-size --skip-zeroing --backend --space-guard" ;;
		template/create) opts="--root-size --private-size" ;;
		template/import) opts="--root --private" ;;
		dvm/create) opts="--template --private-size" ;;
		esac
		;;
	spawn) opts="--name --domain" ;;
	recover) opts="--all" ;;
	worker) opts="--try" ;;
	destroy) opts="--wait" ;;
	reap) opts="--domain --xenbus-path" ;;
	esac
	case $verb in
	spawn)
		_dvm_vol_reply "$opts $(dvm-vol "${_dvm_vol_global[@]}" list 2>/dev/null |
			awk 'NR > 1 && $2 == "dvm-template" { print $1 }')" ;;
	start | stop | destroy | info)
		_dvm_vol_reply "$opts $(dvm-vol "${_dvm_vol_global[@]}" list 2>/dev/null |
			awk 'NR > 1 { print $1 }')" ;;
	*)
		_dvm_vol_reply "$opts --help" ;;
	esac
}

complete -F _dvm_vol dvm-vol

# completion/sluice.bash - bash completion for sluice: commands, the options of
# each command, the values of --format, --method, --on-conflict, --progress and
# --encoding, file names for sources and output files, URL schemes for targets.
# Installed as share/bash-completion/completions/sluice; works without the
# bash-completion package too (source it from ~/.bashrc).

_sluice_opts_input='-t --table --format --delimiter --quote --escape --no-header --columns
	--null --encoding --ignore-unknown --defaults --no-ejson --max-record-bytes'
_sluice_opts_pool='--workers --pool-min --pool-max --acquire-timeout --idle-timeout --retries
	--timeout'
_sluice_opts_report='--progress --stats-interval --rejects --max-errors --summary-json
	--metrics-file -q --quiet -v --verbose -h --help'

# _sluice_options COMMAND: the options COMMAND takes
_sluice_options()
{
	case $1 in
	load)
		echo "$_sluice_opts_input --method --batch-rows --single-transaction --truncate"
		echo "--create --on-conflict --key --dry-run --resume --job --checkpoint-table --nest --nest-depth"
		echo "--parent-key --flatten --add --add-null-as-zero --group-by --max-group-rows --sort-groups"
		echo "$_sluice_opts_pool $_sluice_opts_report"
		;;
	update)
		echo "$_sluice_opts_input --key --set --batch-rows --single-transaction --dry-run"
		echo "--add --add-null-as-zero --group-by --max-group-rows --sort-groups --resume --job --checkpoint-table"
		echo "$_sluice_opts_pool $_sluice_opts_report"
		;;
	delete)
		echo "$_sluice_opts_input --key --soft --batch-rows --single-transaction --dry-run"
		echo "--group-by --max-group-rows --sort-groups --resume --job --checkpoint-table"
		echo "$_sluice_opts_pool $_sluice_opts_report"
		;;
	copy)
		echo "--tables --exclude-tables --schema --query -t --table --create --truncate --cast"
		echo "--verify --split-rows --dry-run --method --batch-rows --resume --job --checkpoint-table"
		echo "--incremental --lag --null-cursor --delete-missing --soft"
		echo "$_sluice_opts_pool $_sluice_opts_report"
		;;
	verify)
		echo "--tables --exclude-tables --schema --timeout --summary-json --checkpoint-table"
		echo "-q --quiet -h --help"
		;;
	export)
		echo "--tables --exclude-tables --schema --query --name --format --compress --compress-level"
		echo "--delimiter --null --quote-all --ejson --workers --split-rows --max-file-bytes --resume --manifest"
		echo "--nest --dry-run --timeout --progress --summary-json --metrics-file -q --quiet -v --verbose -h --help"
		;;
	ping) echo "-h --help" ;;
	checkpoints) echo "--job --forget --checkpoint-table -q --quiet -h --help" ;;
	run) echo "--only --dry-run --summary-json --metrics-file --progress -q --quiet -v --verbose -h --help" ;;
	esac
}

# _sluice_takes_value OPTION: true when OPTION needs a value
_sluice_takes_value()
{
	case $1 in
	-t | --table | --format | --delimiter | --quote | --escape | --columns | --null | \
		--encoding | --max-record-bytes | --method | --batch-rows | --on-conflict | --key | \
		--set | --workers | --pool-min | --pool-max | --acquire-timeout | --idle-timeout | \
		--retries | --progress | --stats-interval | --rejects | --max-errors | \
		--summary-json | --metrics-file | --tables | --exclude-tables | --schema | --query | \
		--cast | --add | --group-by | --max-group-rows | --sort-groups | \
		--split-rows | --timeout | --job | --checkpoint-table | --only | --incremental | --lag | \
		--null-cursor | --soft | --name | --compress | --compress-level | --max-file-bytes | \
		--manifest | --nest | --nest-depth | --parent-key | --flatten)
		return 0
		;;
	esac
	return 1
}

# _sluice_reply WORD CANDIDATE...: COMPREPLY from the candidates that start
# with WORD, less the part of WORD that bash already split off at ':' or '='
# (so URLs and --opt=value complete in place)
_sluice_reply()
{
	local word=$1 c
	shift
	local pre=${word%"${word##*[:=]}"}
	COMPREPLY=()
	for c in "$@"; do
		[[ $c == "$word"* ]] && COMPREPLY+=("${c#"$pre"}")
	done
}

# _sluice_files WORD: file names (and directories to walk into)
_sluice_files()
{
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -f -- "$1")
}

_sluice()
{
	# the line up to the cursor, in words split at blanks only: bash splits
	# COMP_WORDS at ':' and '=' too, which would cut URLs and --opt=value
	local line=${COMP_LINE:0:COMP_POINT}
	local cur=${line##*[[:blank:]]}
	local -a words
	read -ra words <<<"${line%"$cur"}"
	local n=${#words[@]}
	local prev=${words[n - 1]}

	if [ "$n" -le 1 ]; then
		_sluice_reply "$cur" load update delete copy verify export ping checkpoints run --help --version
		return
	fi
	local cmd=${words[1]}
	case $cmd in
	load | update | delete | copy | verify | export | ping | checkpoints | run) ;;
	*) return ;;
	esac

	local opt=$prev value=$cur
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		value=${cur#*=}
	elif ! _sluice_takes_value "$prev"; then
		opt=""
	fi
	if [ -n "$opt" ]; then
		local -a values=()
		case $opt in
		--format) values=(csv tsv ndjson json jsonl) ;;
		--method) values=(copy insert infile) ;;
		--on-conflict) values=(error skip update) ;;
		--parent-key) values=(natural generated) ;;
		--progress) values=(auto bar log none) ;;
		--encoding) values=(utf8 latin1) ;;
		--compress) values=(gzip none) ;;
		--rejects | --summary-json | --metrics-file | --manifest)
			_sluice_files "$value"
			return
			;;
		esac
		_sluice_reply "$cur" "${values[@]/#/${cur%"$value"}}"
		return
	fi

	if [[ $cur == -* ]]; then
		local -a opts
		read -ra opts <<<"$(_sluice_options "$cmd" | tr '\n' ' ')"
		_sluice_reply "$cur" "${opts[@]}"
		return
	fi
	case $cmd in
	run) _sluice_files "$cur" ;;
	load | update | delete)
		if [[ $cur == p* || $cur == m* || $cur == s* ]] && ! compgen -f -- "$cur" >/dev/null; then
			_sluice_reply "$cur" postgresql:// postgres:// mysql:// mariadb:// sqlite:
			compopt -o nospace 2>/dev/null
		elif [[ $cur == *://* ]]; then
			COMPREPLY=()
		else
			_sluice_files "$cur"
		fi
		;;
	*)
		_sluice_reply "$cur" postgresql:// postgres:// mysql:// mariadb:// sqlite:
		compopt -o nospace 2>/dev/null
		;;
	esac
}
complete -F _sluice sluice

/* cli_checkpoint: checkpoint, restore, rollback, snapshots and
 * snapshot rm|prune (docs/checkpoint.md). */
#ifndef SANDBOXCTL_CLI_CHECKPOINT_H
#define SANDBOXCTL_CLI_CHECKPOINT_H

/* Exit code of a full checkpoint or restore where CRIU cannot run. */
#define CLI_EXIT_NO_CRIU 7

/* Where snapshots live: --data-dir, else $SANDBOXCTL_DATA_DIR, else this. */
#define CLI_DATA_DIR_DEFAULT "/var/lib/sandboxctl"
#define CLI_DATA_DIR_ENV "SANDBOXCTL_DATA_DIR"

/* The data dir: OPT (--data-dir) if set, else $SANDBOXCTL_DATA_DIR, else the default. */
const char *cli_data_dir(const char *opt);
int cli_checkpoint(int argc, char **argv);
int cli_restore(int argc, char **argv);
int cli_rollback(int argc, char **argv);
int cli_snapshots(int argc, char **argv);
int cli_snapshot(int argc, char **argv);

#endif

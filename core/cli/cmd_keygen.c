/*
 * cmd_keygen.c -- `xsell keygen NAME`: a CURVE key pair for a server or a
 * client, NAME.key (secret, mode 0600) and NAME.pub (public), never
 * overwriting either.
 */
#include <string.h>

#include "cli/cli.h"

static void help(FILE *f)
{
    fprintf(f, "usage: xsell keygen NAME\n\n"
               "Writes a CURVE key pair: NAME.key, the secret key (mode "
               "600: keep it), and\nNAME.pub, the public key (give it out), "
               "each one line of Z85 text.  A server\nuses its .key with "
               "--curve-key and gives clients its .pub; a client's .pub\n"
               "goes into the server's --clients DIR/read (read ops) or "
               "DIR/write (every op).\nExisting files are never "
               "overwritten.\n");
}

int cmd_keygen(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        help(stdout);
        return CLI_OK;
    }
    if (argc != 2 || !argv[1][0] || argv[1][0] == '-') {
        help(stderr);
        return CLI_USAGE;
    }
    char pub[41];
    xs_error err = {0};
    if (xs_curve_keygen(argv[1], pub, &err))
        return cli_fail("keygen", cli_exit_code(err.code), "%s", err.msg);
    printf("%s.key (secret) and %s.pub (public: %s)\n", argv[1], argv[1],
           pub);
    return CLI_OK;
}

/* exit_code.c - returns atoi(argv[1]) (0 without an argument) and prints
 * one line, so that tests can check that `memshim run` passes the exit
 * code through and that the program really ran. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int code = argc > 1 ? atoi(argv[1]) : 0;
    printf("exit_code: returning %d\n", code);
    fflush(stdout);
    return code;
}

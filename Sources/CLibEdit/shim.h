#ifndef ZKSH_CLIBEDIT_SHIM_H
#define ZKSH_CLIBEDIT_SHIM_H
#include <stdio.h>
#include <histedit.h>
#endif

/* include/sluice/textblock.h
 * Blocks of input text that a reader reads into and the batches holding its
 * records share: a record's text and values stay where they were read, and
 * the block is reused once the last batch that held it is written. Counted
 * references, taken and dropped from any thread.
 */
#ifndef SLUICE_TEXTBLOCK_H
#define SLUICE_TEXTBLOCK_H

#include <stdbool.h>
#include <stddef.h>

/* The room of a block, and the bytes past it that can be read (not used):
 * a scan reads 64 bytes at a time, an encoder 32 past a value's start. */
#define TEXT_BLOCK_SIZE ((size_t)256 * 1024)
#define TEXT_BLOCK_PAD 64

struct text_block;

/* A block with one reference (the caller's), or NULL when memory is
 * exhausted. Blocks are kept for reuse once dropped, up to a bound. */
struct text_block *text_block_new(void);
/* Its TEXT_BLOCK_SIZE + TEXT_BLOCK_PAD bytes. */
unsigned char *text_block_data(struct text_block *b);
void text_block_hold(struct text_block *b);
/* Drop a reference; the last one gives the block back. NULL: nothing. */
void text_block_drop(struct text_block *b);
/* Whether the caller's reference is the only one: nobody else reads the
 * block, and it may be written. */
bool text_block_alone(const struct text_block *b);

#endif

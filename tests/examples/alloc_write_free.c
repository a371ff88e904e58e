#include <windows.h>
#include <stdio.h>
int main() {
LPVOID memoryBlock = NULL;
SIZE_T blockSize = 1024; // 1 KB
// Allocate 1 KB of memory with read/write access
memoryBlock = VirtualAlloc(
NULL, // Let the system determine the address
blockSize, // Size of the region to allocate
MEM_COMMIT | MEM_RESERVE, // Commit and reserve pages
PAGE_READWRITE // Memory protection flags
);
if (memoryBlock == NULL) {
wprintf(L"VirtualAlloc failed. Error: %lu\n", GetLastError());
return 1;
}
wprintf(L"Memory allocated at: %p\n", memoryBlock);
// Write data to the allocated memory
const char* message = "Hello, Windows Memory Management!";
strncpy((char*)memoryBlock, message, blockSize - 1);
((char*)memoryBlock)[blockSize - 1] = '\0'; // Ensure null termination
wprintf(L"Data written to memory: %s\n", (char*)memoryBlock);
// Free the allocated memory
if (VirtualFree(memoryBlock, 0, MEM_RELEASE) == 0) {
wprintf(L"VirtualFree failed. Error: %lu\n", GetLastError());
return 1;
}
wprintf(L"Memory freed.\n");
return 0;
}

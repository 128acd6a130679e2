# Writes OUT, a C++ file holding every migration of FILES (sorted by name, so
# by number) as the table patternd::store::<VAR> (k_migrations unless VAR
# names another: k_postgresql_migrations).
if(NOT VAR)
  set(VAR k_migrations)
endif()
set(body "// Generated from schema/*.sql by cmake/embed_schema.cmake; do not edit.\n")
string(APPEND body "#include \"store/migrations.hpp\"\n\nnamespace patternd::store {\n")
string(APPEND body "const std::vector<Migration> ${VAR} = {\n")
foreach(file ${FILES})
  get_filename_component(name ${file} NAME)
  string(REGEX MATCH "^[0-9]+" number ${name})
  math(EXPR number "${number}")
  file(READ ${file} sql)
  string(APPEND body "  {${number}, \"${name}\", R\"patternd_sql(${sql})patternd_sql\"},\n")
endforeach()
string(APPEND body "};\n\n}  // namespace patternd::store\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
